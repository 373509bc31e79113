import Foundation
import KoerierModel
import KoerierSecurity
import KoerierStore

/// A receipt that arrives on its own (after mail delivery): matched to the record whose
/// sent bytes it answers, by message id and SHA-256, and only from that record's recipient.
public struct ReceiptIntake: Sendable {
    let store: any MessageStore
    let directory: RecipientDirectory
    let receipts: ReceiptCheck

    public init(store: any MessageStore, directory: RecipientDirectory, receipts: ReceiptCheck) {
        self.store = store
        self.directory = directory
        self.receipts = receipts
    }

    /// Checks the receipt (signature, sender), then, as one unit of work, finds the record it
    /// answers, keeps the receipt and settles the record.
    public func accept(_ bytes: Data, context: AuditContext) throws -> OutboundRecord {
        let checked = try receipts.check(bytes)
        return try store.transaction { tx in try settle(checked, bytes: bytes, in: tx, context: context) }
    }

    private func settle(_ checked: CheckedReceipt, bytes: Data, in store: any StoreTransaction, context: AuditContext) throws
        -> OutboundRecord
    {
        let receipt = checked.receipt
        guard let (record, digest) = try store.record(sentMessageID: receipt.answeredMessageID.value) else {
            throw DeliveryFailure("the receipt answers message \(receipt.answeredMessageID), which Koerier did not deliver")
        }
        guard digest == receipt.answeredDigest.value else {
            throw DeliveryFailure("the receipt's SHA-256 is not that of the bytes delivered as \(receipt.answeredMessageID)")
        }
        guard let recipient = directory[record.recipientID] else {
            throw DeliveryFailure("the receipt answers a message for \(record.recipientID), which is no longer in the recipient directory")
        }
        try receipts.require(checked, from: recipient)
        let receiptID = receipt.envelope.messageID.value
        let rejects: Bool
        if case .rejected = receipt.outcome { rejects = true } else { rejects = false }
        if record.state == .acknowledged || (record.state == .dead && record.receiptID != nil) {
            // Settled by a receipt already: the same verdict again (the same receipt resent,
            // or another copy of it) changes nothing; the opposite verdict is refused.
            guard rejects == (record.state == .dead) else {
                throw DeliveryFailure(
                    "message \(receipt.answeredMessageID) was already \(record.state.rawValue) by receipt \(record.receiptID ?? "?"); "
                        + "receipt \(receiptID) says otherwise")
            }
            return record
        }
        // Dead already (it gave up before the answer came): a rejection agrees, nothing to do.
        if record.state == .dead, rejects { return record }
        // A record being sent again right now is not ours to settle until that attempt ends
        // (the store says so, and the partner hears "later"); any other state a receipt
        // cannot move (cancelled, blocked, queued) is final: refused.
        if record.state != .sending, !record.state.successors.contains(rejects ? .dead : .acknowledged) {
            throw DeliveryFailure(
                "message \(receipt.answeredMessageID) is \(record.state.rawValue) here; receipt \(receiptID) cannot settle it")
        }
        let sender = checked.signer.organisation ?? checked.signer.subject
        _ = try store.receiveProcessed(
            InboundMessage(messageID: receipt.envelope.messageID, kind: .receipt, sender: sender, payload: bytes),
            now: Date(), context: context)
        if case .rejected(let code, let text) = receipt.outcome {
            return try store.transition(
                record.id,
                Transition(
                    to: .dead, error: "rejected by \(record.recipientID): \(code.rawValue): \(text)",
                    receiptID: receiptID), now: Date(), context: context)
        }
        return try store.transition(record.id, Transition(to: .acknowledged, receiptID: receiptID), now: Date(), context: context)
    }
}
