import KoerierModel

extension MessageKind {
    /// One versioned namespace per kind.
    public var namespace: String { "urn:koerier:\(rawValue):1" }

    public var rootElement: String {
        switch self {
        case .referral: return "Referral"
        case .returnLetter: return "ReturnLetter"
        case .participationNotice: return "ParticipationNotice"
        case .receipt: return "Receipt"
        }
    }

    public var schemaFileName: String { "\(rawValue).xsd" }

    init?(rootElement: String) {
        guard let kind = MessageKind.allCases.first(where: { $0.rootElement == rootElement }) else { return nil }
        self = kind
    }
}
