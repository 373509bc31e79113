import Foundation
import KoerierModel
import KoerierSecurity
import KoerierStore

/// What leaves for one recipient: the exact bytes, their message id and kind.
public struct OutgoingMessage: Sendable {
    public let messageID: MessageID
    public let kind: MessageKind
    public let bytes: Data
    /// The model these bytes were made from, where the adapter had it: a recipient whose
    /// record system reads another format gets this rendered (`LetterFormatter`).
    public let content: Message?

    public init(messageID: MessageID, kind: MessageKind, bytes: Data, content: Message? = nil) {
        self.messageID = messageID
        self.kind = kind
        self.bytes = bytes
        self.content = content
    }
}

public enum AdapterDecision: Sendable {
    case send(OutgoingMessage)
    /// Never sent; the reason is a short code first (`no-consent: …`).
    case block(String)
}

/// Decides, for one recipient type, what that recipient may see of a message. `derive`
/// runs once, when the message is queued: a copy for this recipient is built and signed
/// then, so every attempt sends the same bytes. `withheld` runs at every attempt, because
/// consent may be given or withdrawn while a letter waits.
public protocol RecipientAdapter: Sendable {
    func derive(_ message: Message, bytes: Data, for recipient: Recipient) throws -> AdapterDecision
    /// Why nothing may go to this recipient now (no consent), or nil. `consent` is what is in
    /// force for each trajectory of the letter's transaction (`TrajectoryStore.consents`).
    func withheld(consent: [ConsentVersion], for recipient: Recipient) -> String?
    /// Whether `withheld` reads the consent at all (if not, nobody looks it up).
    var readsConsent: Bool { get }
}

extension RecipientAdapter {
    /// Both steps at once: the consent check first, then what may be sent.
    public func prepare(_ message: Message, bytes: Data, for recipient: Recipient, consent: [ConsentVersion]) throws -> AdapterDecision {
        if let reason = withheld(consent: consent, for: recipient) { return .block(reason) }
        return try derive(message, bytes: bytes, for: recipient)
    }
}

/// Content for a party that needs the client's consent: the consent in force for the
/// letter's trajectory must name this directory entry. A letter of no trajectory, or of a
/// transaction whose trajectories disagree, goes to nobody who needs consent.
enum ConsentRequired {
    static func withheld(consent: [ConsentVersion], for recipient: Recipient) -> String? {
        guard !consent.isEmpty else { return "no-consent: the letter belongs to no trajectory with recorded consent" }
        if let narrower = consent.first(where: { !$0.allows(recipient.id) }) {
            return "no-consent: trajectory \(narrower.trajectoryID)'s consent (version \(narrower.version)) does not name \(recipient.id)"
        }
        return nil
    }
}

/// The adapter for each recipient type (DOMAIN.md: who may see what).
public struct AdapterSet: Sendable {
    /// This gateway's signer, for the messages adapters derive.
    public let signing: MessageSigning
    /// Renders a copy in its recipient's format (MEDVRI, FHIR) once the adapter decided it.
    public let formats: LetterFormatter

    public init(signing: MessageSigning, formats: LetterFormatter = LetterFormatter(ediSender: nil)) {
        self.signing = signing
        self.formats = formats
    }

    public func adapter(for type: RecipientType) -> any RecipientAdapter {
        switch type {
        case .huisarts, .centrum: return AddresseeAdapter()
        case .bedrijfsarts, .ggz: return ConsentedClinicalAdapter(type: type, signing: signing)
        case .werkgever, .sociaalDomein: return ParticipationAdapter(type: type, signing: signing)
        }
    }
}

/// The referring GP (or, from a practice's gateway, the centre) gets the full signed
/// message as it was queued, provided it is addressed to them.
struct AddresseeAdapter: RecipientAdapter {
    func withheld(consent: [ConsentVersion], for recipient: Recipient) -> String? { nil }
    var readsConsent: Bool { false }

    func derive(_ message: Message, bytes: Data, for recipient: Recipient) throws -> AdapterDecision {
        if let problem = Addressing.mismatch(message.envelope.receiver, recipient) { return .block("misaddressed: \(problem)") }
        return .send(OutgoingMessage(messageID: message.envelope.messageID, kind: message.kind, bytes: bytes, content: message))
    }
}

/// Occupational physician and mental-health care: the full letter, only with the client's
/// consent, addressed to them (a copy for another addressee gets its own id and signature).
struct ConsentedClinicalAdapter: RecipientAdapter {
    let type: RecipientType
    let signing: MessageSigning

    func withheld(consent: [ConsentVersion], for recipient: Recipient) -> String? {
        ConsentRequired.withheld(consent: consent, for: recipient)
    }
    var readsConsent: Bool { true }

    func derive(_ message: Message, bytes: Data, for recipient: Recipient) throws -> AdapterDecision {
        guard case .returnLetter(var letter) = message else {
            if Addressing.mismatch(message.envelope.receiver, recipient) == nil {
                return .send(OutgoingMessage(messageID: message.envelope.messageID, kind: message.kind, bytes: bytes, content: message))
            }
            return .block("misaddressed: a \(message.kind.rawValue) for another party is not forwarded")
        }
        if Addressing.mismatch(letter.envelope.receiver, recipient) == nil {
            return .send(OutgoingMessage(messageID: letter.envelope.messageID, kind: .returnLetter, bytes: bytes, content: message))
        }
        letter.envelope.messageID = DerivedMessageID.make(from: letter.envelope.messageID, recipient: recipient.id, purpose: "copy")
        letter.envelope.receiver = recipient.party
        let signed = try signing.signedXML(.returnLetter(letter))
        return .send(
            OutgoingMessage(messageID: letter.envelope.messageID, kind: .returnLetter, bytes: signed, content: .returnLetter(letter)))
    }
}

/// Whether an envelope's party is this recipient, by the identifiers both carry.
public enum Addressing {
    /// The directory entry that is this party: same type and the same URA, or for a party
    /// that names no URA the same AGB. A party naming a URA is found by it alone: intake
    /// proves a sender's URA when it has one (`requireSender`), and an AGB written beside it
    /// proves nothing, so it must not lead a referral's return letters to another practice.
    public static func matches(_ recipient: Recipient, _ party: Party) -> Bool {
        guard recipient.type.rawValue == party.type.rawValue else { return false }
        if let ura = party.ura { return recipient.ura == ura }
        if let agb = recipient.agb, let other = party.agb { return agb == other }
        return false
    }

    static func mismatch(_ receiver: Party, _ recipient: Recipient) -> String? {
        if let ura = recipient.ura, let addressed = receiver.ura, ura != addressed {
            return "the message is for URA \(addressed.value), \(recipient.id) is URA \(ura.value)"
        }
        if let agb = recipient.agb, let addressed = receiver.agb, agb != addressed {
            return "the message is for AGB \(addressed.value), \(recipient.id) is AGB \(agb.value)"
        }
        if receiver.type.rawValue != recipient.type.rawValue {
            return "the message is for a \(receiver.type.rawValue), \(recipient.id) is a \(recipient.type.rawValue)"
        }
        return nil
    }
}

/// Employer and social domain: with consent, a participation notice derived from the
/// letter; never the letter itself, and nothing else clinical.
struct ParticipationAdapter: RecipientAdapter {
    let type: RecipientType
    let signing: MessageSigning

    func withheld(consent: [ConsentVersion], for recipient: Recipient) -> String? {
        ConsentRequired.withheld(consent: consent, for: recipient)
    }
    var readsConsent: Bool { true }

    func derive(_ message: Message, bytes: Data, for recipient: Recipient) throws -> AdapterDecision {
        switch message {
        case .participationNotice(let notice):
            return .send(OutgoingMessage(messageID: notice.envelope.messageID, kind: .participationNotice, bytes: bytes))
        case .returnLetter(let letter):
            let notice = ParticipationDerivation.notice(from: letter, to: recipient)
            let signed = try signing.signedXML(.participationNotice(notice))
            return .send(OutgoingMessage(messageID: notice.envelope.messageID, kind: .participationNotice, bytes: signed))
        case .referral, .receipt:
            return .block("not-allowed: a \(message.kind.rawValue) is never sent to a \(type.rawValue)")
        }
    }
}
