import KoerierModel

/// ZorgDomein Composition.type codes (system http://zorgdomein.nl/terminology/code-system/document-type)
/// Koerier takes. `request-form` and `questionnaire` exist too; Koerier refuses them
/// (rule `document-type-unsupported`): the model has nowhere to put a form's answers.
public enum ZDDocumentType: String, Sendable, CaseIterable {
    case appointmentRequest = "appointment-request"
    case referralLetter = "referral-letter"
    case supplement, cancellation

    /// The document kind the referral's envelope carries.
    public var documentKind: DocumentKind {
        switch self {
        case .appointmentRequest, .referralLetter: return .verwijzing
        case .supplement: return .aanvulling
        case .cancellation: return .annulering
        }
    }
}

/// A ZorgDomein document Bundle, read and mapped to the model.
public struct ZorgDomeinDocument: Sendable, Hashable {
    /// `Bundle.id` as sent: unique per delivery, repeated when ZorgDomein retries.
    public let bundleID: String
    public let documentType: ZDDocumentType
    /// The ZD-number from `Composition.identifier`, without a `_ANTW` suffix: every
    /// document of one transaction shares it.
    public let zdNumber: TransactionID
    /// Its `envelope.messageID` is `FHIRIdentifiers.messageID(bundleID:)`.
    public let referral: Referral

    public init(bundleID: String, documentType: ZDDocumentType, zdNumber: TransactionID, referral: Referral) {
        self.bundleID = bundleID
        self.documentType = documentType
        self.zdNumber = zdNumber
        self.referral = referral
    }
}
