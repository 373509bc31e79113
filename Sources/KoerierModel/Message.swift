/// The four message kinds Koerier exchanges.
public enum MessageKind: String, CaseIterable, Sendable {
    case referral
    case returnLetter = "return-letter"
    case participationNotice = "participation-notice"
    case receipt

    /// Document kinds that fit this message kind.
    public var documentKinds: [DocumentKind] {
        switch self {
        case .referral: return [.verwijzing, .aanvulling, .annulering]
        case .returnLetter: return [.terugkoppeling, .terugkoppelingCorrectie]
        case .participationNotice: return [.deelnamebericht]
        case .receipt: return [.ontvangstbevestiging]
        }
    }

    /// Whether the kind can carry clinical content (and so must never reach an employer).
    public var carriesClinicalContent: Bool {
        switch self {
        case .referral, .returnLetter: return true
        case .participationNotice, .receipt: return false
        }
    }
}

/// Any one message, as parsed or built.
public enum Message: Hashable, Sendable {
    case referral(Referral)
    case returnLetter(ReturnLetter)
    case participationNotice(ParticipationNotice)
    case receipt(Receipt)

    public var kind: MessageKind {
        switch self {
        case .referral: return .referral
        case .returnLetter: return .returnLetter
        case .participationNotice: return .participationNotice
        case .receipt: return .receipt
        }
    }

    public var envelope: Envelope {
        switch self {
        case .referral(let message): return message.envelope
        case .returnLetter(let message): return message.envelope
        case .participationNotice(let message): return message.envelope
        case .receipt(let message): return message.envelope
        }
    }
}
