import Foundation
import KoerierModel

/// Reads a ZorgDomein-style FHIR STU3 document Bundle (`POST {base}/Bundle`) into a
/// referral, in stages that each report all their problems: the bytes (size, UTF-8, JSON
/// with bounded depth), the Bundle's shape, the content (identifiers, codes, references,
/// narratives), then the model's own rules.
public enum ZorgDomeinBundleReader {
    /// The question of an appointment request, which carries no medical content.
    public static let appointmentQuestion = "Afspraakverzoek via ZorgDomein; de verwijsbrief volgt."

    /// `receiver`: this centre as it appears in envelopes (the intake passes its own party).
    public static func read(_ data: Data, receiver: Party, limits: FHIRLimits = .standard) throws(FHIRProblems)
        -> ZorgDomeinDocument
    {
        let root = try BoundedJSONParser.parse(data, limits: limits)
        let index = try BundleIndex(root, limits: limits)
        var reader = ElementReader(limits: limits)
        guard let content = reader.content(of: index) else { throw FHIRProblems(reader.problems) }

        let envelope = Envelope(
            messageID: FHIRIdentifiers.messageID(bundleID: index.id), transactionID: content.zdNumber, created: content.created,
            documentKind: content.documentType.documentKind, sender: content.sender, receiver: receiver)
        let referral = Referral(
            envelope: envelope, patient: content.patient, requestType: .refer, urgency: content.urgency,
            core: ReferralCore(
                reasons: [.stressBurnoutProgramma], question: content.question, history: content.history,
                medication: content.medication),
            // ZorgDomein carries no Koerier consent: feedback may go to the referring GP
            // only. Further recipients come from a signed consent document recorded later.
            consent: Consent(recordedOn: content.created.date, allowed: [.huisarts]))

        // `follow-up-reference` asks a supplement or cancellation to name its referral's
        // message id; a ZorgDomein document names its transaction instead, and the intake
        // links documents by ZD-number.
        let violations = Message.referral(referral).ruleViolations().filter { $0.rule != "follow-up-reference" }
        guard violations.isEmpty else { throw FHIRProblems(violations.map(content.locations.problem(for:))) }
        return ZorgDomeinDocument(
            bundleID: index.id, documentType: content.documentType, zdNumber: content.zdNumber, referral: referral)
    }
}
