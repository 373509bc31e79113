import Foundation

/// The inbound queue: messages that arrived, the receipts this gateway issued for them.
public protocol InboxStore: Sendable {
    /// Stores an arrived message before returning; a second arrival of the same id is a duplicate.
    func receive(_ message: InboundMessage, now: Date, context: AuditContext) throws -> (record: InboundRecord, duplicate: Bool)

    /// Stores an arrived message that needs no further step as processed; true when its id was there already.
    func receiveProcessed(_ message: InboundMessage, now: Date, context: AuditContext) throws -> Bool

    func markInbound(_ messageID: String, _ state: InboundState, reason: String?, now: Date, context: AuditContext) throws -> InboundRecord

    func inbound(state: InboundState?, limit: Int) throws -> [InboundRecord]

    /// Number of inbound messages per state.
    func inboundCounts() throws -> [InboundState: Int]

    /// The decrypted payload of an inbound message; an audited read.
    func inboundPayload(_ messageID: String, now: Date, context: AuditContext) throws -> Data

    /// The receipt already issued for a message id (a duplicate arrival gets it again).
    func issuedReceipt(for messageID: String) throws -> Data?
    /// Keeps the receipt that answers a message; throws `ReceiptAlreadyIssued` when the id has
    /// one already (a copy that arrived at the same moment was stored first): the caller's
    /// unit of work then stores nothing, and the arrival is answered as a duplicate.
    func recordIssuedReceipt(_ receipt: Data, for messageID: String, now: Date) throws
}
