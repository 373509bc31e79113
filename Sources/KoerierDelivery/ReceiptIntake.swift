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
        switch record.state {
        case .acknowledged where !rejects, .dead where rejects:
            // The same verdict again (this receipt resent, another copy of it, or a rejection
            // for a record that gave up before the answer came): nothing to do.
            return record
        case .acknowledged,
            .dead where record.receiptID != nil:
            throw DeliveryFailure(
                "message \(receipt.answeredMessageID) was already \(record.state.rawValue) by receipt \(record.receiptID ?? "?"); "
                    + "receipt \(receiptID) says otherwise")
        case .sending:
            // Being sent again right now: not ours to settle until that attempt ends (the store
            // says so below, and the partner hears "later").
            break
        default:
            // Any other state a receipt cannot move (cancelled, blocked, queued) is final.
            guard record.state.successors.contains(rejects ? .dead : .acknowledged) else {
                throw DeliveryFailure(
                    "message \(receipt.answeredMessageID) is \(record.state.rawValue) here; receipt \(receiptID) cannot settle it")
            }
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
