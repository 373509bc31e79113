import Foundation
import KoerierModel
import KoerierSecurity
import KoerierStore

/// Turns a message for a recipient into what the outbox stores: the recipient's adapter
/// decides at this moment what of it the recipient may see, and a copy made for them (a
/// re-addressed letter, a participation notice) is built and signed now, once. The record
/// then holds exactly the bytes that leave, their id and SHA-256, before any attempt.
public struct LetterQueue: Sendable {
    /// Nil when this gateway has no signing identity (yet): messages are then queued as
    /// they are, and the adapter decides at delivery, which needs the identity anyway.
    let adapters: AdapterSet?

    public init(adapters: AdapterSet?) { self.adapters = adapters }

    public func outbound(
        _ message: Message, bytes: Data, to recipient: Recipient, urgency: Urgency, clientReference: String?
    ) throws -> OutboundMessage {
        let envelope = message.envelope
        var outbound = OutboundMessage(
            messageID: envelope.messageID, kind: message.kind, recipientID: recipient.id, recipientType: recipient.type,
            transactionID: envelope.transactionID, urgency: urgency, payload: bytes, clientReference: clientReference)
        // A message this recipient may never see is queued as it is: its first attempt blocks
        // it with the adapter's reason, where ops see it.
        // So is one its recipient's format cannot carry (a receipt for a MEDVRI mailbox).
        if let adapters, case .send(let decided) = try adapters.adapter(for: recipient.type).derive(message, bytes: bytes, for: recipient),
            let copy = try? adapters.formats.render(decided, for: recipient)
        {
            outbound.kind = copy.kind
            outbound.payload = copy.bytes
            outbound.prepared = PreparedCopy(messageID: copy.messageID, digest: ReceiptMatch.sha256Hex(copy.bytes))
        }
        return outbound
    }
}
