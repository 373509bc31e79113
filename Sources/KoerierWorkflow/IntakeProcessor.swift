import Foundation
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierStore

/// What happens to a message that arrived and passed every check: it is stored durably
/// before anyone is told it was accepted. A referral opens a trajectory (with the client's
/// consent) in the same transaction; a receipt settles the outbound record it answers;
/// letters and notices for this gateway land in the inbound queue.
public struct IntakeProcessor: Sendable {
    let store: any MessageStore
    let directory: RecipientDirectory
    let receipts: ReceiptIntake
    let accessPoint: String

    public init(store: any MessageStore, directory: RecipientDirectory, receipts: ReceiptIntake, accessPoint: String) {
        self.store = store
        self.directory = directory
        self.receipts = receipts
        self.accessPoint = accessPoint
    }

    /// Stores the message, and the receipt that will answer it when there is one, as one
    /// unit of work (a receipt that arrives settles its record in its own unit of work).
    public func accept(_ message: Message, bytes: Data, sender: String, receipt: Data? = nil) throws {
        if case .receipt = message {
            try accept(message, bytes: bytes, sender: sender, in: store)
            return
        }
        // Many partners at once: their units share one flush (group commit).
        try store.groupedTransaction { tx in
            try accept(message, bytes: bytes, sender: sender, in: tx)
            if let receipt { try tx.recordIssuedReceipt(receipt, for: message.envelope.messageID.value, now: Date()) }
        }
    }

    private func accept(_ message: Message, bytes: Data, sender: String, in store: any StoreTransaction) throws {
        let actor = AuditContext(actor: "remote:\(sender)", onBehalfOf: nil, accessPoint: accessPoint)
        let clientReferencer = self.store.clientReferencer
        switch message {
        case .referral(let referral):
            let reference = clientReferencer.reference(bsn: referral.patient.bsn.digits)
            let referrer = directory.recipients.values.first { Addressing.matches($0, referral.envelope.sender) }?.id
            let (_, duplicate) = try store.receiveReferral(
                InboundMessage(
                    messageID: referral.envelope.messageID, kind: .referral, sender: sender, payload: bytes, clientReference: reference),
                referrerRecipientID: referrer,
                consent: ReferralConsent.grant(referral, directory: directory),
                transactionID: referral.envelope.transactionID.value, now: Date(), context: actor)
            if duplicate { try requireSameBytes(as: message.envelope.messageID, bytes, in: store) }
        case .receipt:
            do {
                _ = try receipts.accept(bytes, context: actor)
            } catch let failure as DeliveryFailure {
                // The receipt's own fault: refused for good.
                throw IntakeRefusal("receipt not accepted: \(failure)")
            }
        // Anything else is ours (the store is full or failing, the record is being sent
        // again right now): it passes on, and the partner hears "send again later".
        case .returnLetter, .participationNotice:
            let bsn: String? = { if case .returnLetter(let letter) = message { return letter.patient.bsn.digits } else { return nil } }()
            let duplicate = try store.receiveProcessed(
                InboundMessage(
                    messageID: message.envelope.messageID, kind: message.kind, sender: sender, payload: bytes,
                    clientReference: bsn.map { clientReferencer.reference(bsn: $0) }),
                now: Date(), context: actor)
            if duplicate { try requireSameBytes(as: message.envelope.messageID, bytes, in: store) }
        }
    }

    /// A message id names one message: an arrival under a taken id is the same message again
    /// (taken, nothing more stored) or another one, refused, so that it is not dropped as if
    /// it had been stored (a record system that exports a correction under the old id).
    /// The comparison reads the held message as the intake service (audited as such), not as
    /// the partner who sent the copy.
    private func requireSameBytes(as id: MessageID, _ bytes: Data, in store: any StoreTransaction) throws {
        let intake = AuditContext(actor: "service:koerier-intake", onBehalfOf: nil, accessPoint: accessPoint)
        guard try store.inboundPayload(id.value, now: Date(), context: intake) == bytes else {
            throw IntakeRefusal(status: 409, "message id \(id) was already used for another message; nothing was stored")
        }
    }
}

/// Thrown by an intake's `accept` for a message it will not take: a 4xx with the reason.
public struct IntakeRefusal: Error, Sendable {
    public let status: Int
    public let reason: String
    public init(status: Int = 422, _ reason: String) {
        self.status = status
        self.reason = reason
    }
}
