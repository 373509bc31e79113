import Foundation

/// The referral's free text, taken from the Composition's section narratives.
struct ReferralText {
    var question: String
    var history: String?
    var medication: String?
    /// Where the question came from, for rules about it.
    var questionPath: String
}

extension ElementReader {
    /// An appointment request carries no medical content: its question is fixed and its
    /// sections are not read. Otherwise the sections titled (case-insensitively)
    /// "Vraagstelling", "Voorgeschiedenis" and "Medicatie" fill the question, history
    /// and medication. Every other section follows the question under its own title: the
    /// model has no other free-text slot, and nothing the sender wrote may be dropped
    /// unseen. A referral letter must have a Vraagstelling; a supplement or cancellation
    /// without one gets a fixed lead sentence.
    mutating func referralText(_ type: ZDDocumentType, composition: BundleEntry) -> ReferralText? {
        let sectionPath = composition.path + ".section"
        guard type != .appointmentRequest else {
            return ReferralText(question: ZorgDomeinBundleReader.appointmentQuestion, questionPath: sectionPath)
        }
        var question: [String] = []
        var history: [String] = []
        var medication: [String] = []
        var others: [String] = []
        var questionPath: String?
        for section in sections(composition.resource, at: composition.path) {
            switch section.title?.lowercased() {
            case "vraagstelling":
                question.append(section.text)
                questionPath = questionPath ?? section.path
            case "voorgeschiedenis": history.append(section.text)
            case "medicatie": medication.append(section.text)
            default: if !section.text.isEmpty { others.append(section.title.map { "\($0):\n\(section.text)" } ?? section.text) }
            }
        }
        var lead = question.filter { !$0.isEmpty }.joined(separator: "\n\n")
        if question.isEmpty {
            switch type {
            case .referralLetter:
                problem(sectionPath, "required", "a referral letter must have a section titled Vraagstelling")
                return nil
            case .supplement: lead = "Aanvulling op de verwijzing via ZorgDomein."
            case .cancellation: lead = "Annulering van de verwijzing via ZorgDomein."
            case .appointmentRequest: lead = ZorgDomeinBundleReader.appointmentQuestion
            }
        }
        func joined(_ parts: [String]) -> String? {
            let text = parts.filter { !$0.isEmpty }.joined(separator: "\n\n")
            return text.isEmpty ? nil : text
        }
        return ReferralText(
            question: ([lead] + others).filter { !$0.isEmpty }.joined(separator: "\n\n"), history: joined(history),
            medication: joined(medication), questionPath: questionPath ?? sectionPath)
    }

    /// Each section's title and narrative text, nested sections folded into their parent
    /// under their titles. Recursion follows the JSON, whose depth the parser bounded.
    private mutating func sections(_ object: Object, at path: String) -> [(title: String?, text: String, path: String)] {
        var result: [(title: String?, text: String, path: String)] = []
        for (position, section) in objects(object, "section", at: path) {
            let sectionPath = path + ".section[\(position)]"
            let title = string(section, "title", at: sectionPath, required: false)
            var parts: [String] = []
            if let narrative = self.object(section, "text", at: sectionPath, required: false),
                let div = text(narrative, "div", at: sectionPath + ".text", required: true)
            {
                if let plain = Narrative.plainText(div, limit: limits.maxTextCharacters) {
                    parts.append(plain)
                } else {
                    problem(
                        sectionPath + ".text.div", "text-too-long",
                        "the narrative holds more than \(limits.maxTextCharacters) characters of text")
                }
            }
            for nested in sections(section, at: sectionPath) where !nested.text.isEmpty {
                parts.append(nested.title.map { "\($0):\n\(nested.text)" } ?? nested.text)
            }
            result.append((title, parts.filter { !$0.isEmpty }.joined(separator: "\n\n"), sectionPath))
        }
        return result
    }
}
