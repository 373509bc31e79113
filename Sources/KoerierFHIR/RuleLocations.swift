import KoerierModel

/// Where in the Bundle each part of the referral came from, so a broken model rule
/// (`Message.ruleViolations()`) is reported at a FHIR path rather than a model field.
struct RuleLocations {
    var composition: String
    var patient: String
    var organisation: String
    var priority: String?
    var question: String

    func problem(for violation: RuleViolation) -> FHIRProblem {
        FHIRProblem(path: path(for: violation.field), rule: violation.rule, message: violation.message)
    }

    private func path(for field: String) -> String {
        if field.hasPrefix("Patient/BirthDate") { return patient + ".birthDate" }
        if field.hasPrefix("Patient") { return patient }
        if field.hasPrefix("Envelope/Sender/AGB") { return organisation + ".identifier" }
        if field.hasPrefix("Envelope/Sender") { return organisation }
        if field.hasPrefix("Envelope/DocumentKind") { return composition + ".type" }
        if field.hasPrefix("Envelope/Created") { return composition + ".date" }
        if field.hasPrefix("Core/Question") { return question }
        // The consent's date is the Composition's date (ZorgDomein carries no consent).
        if field.hasPrefix("Consent") { return composition + ".date" }
        if field.hasPrefix("Urgency") { return priority ?? composition }
        // The receiver is this centre (configuration), the rest has no single source.
        return "Bundle"
    }
}
