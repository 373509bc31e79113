import Foundation
import KoerierModel

/// One message for one recipient, as handed to the queue.
public struct OutboundMessage: Sendable {
    public var messageID: MessageID
    public var kind: MessageKind
    public var recipientID: String
    public var recipientType: RecipientType
    public var transactionID: TransactionID
    public var urgency: Urgency
    /// The exact bytes to send (signed XML); stored encrypted.
    public var payload: Data

    public init(messageID: MessageID, kind: MessageKind, recipientID: String, recipientType: RecipientType,
                transactionID: TransactionID, urgency: Urgency, payload: Data) {
        self.messageID = messageID
        self.kind = kind
        self.recipientID = recipientID
        self.recipientType = recipientType
        self.transactionID = transactionID
        self.urgency = urgency
        self.payload = payload
    }
}

/// What the queue knows of a record, without its payload: all of it stays queryable.
public struct OutboundRecord: Sendable, Equatable {
    public let id: Int64
    public let messageID: String
    public let kind: String
    public let recipientID: String
    public let recipientType: String
    public let transactionID: String
    public let urgency: Urgency
    public let state: DeliveryState
    public let attempts: Int
    public let nextAttemptAt: Date
    public let leaseOwner: String?
    public let leaseExpiresAt: Date?
    public let lastError: String?
    public let receiptID: String?
    public let createdAt: Date
    public let updatedAt: Date
    public let keyID: String
}

public enum EnqueueOutcome: Sendable, Equatable {
    case stored(OutboundRecord)
    /// The same message id for the same recipient was already queued: nothing new stored.
    case duplicate(OutboundRecord)

    public var record: OutboundRecord {
        switch self {
        case .stored(let record), .duplicate(let record): return record
        }
    }
}

/// A change of state, with what goes with it.
public struct Transition: Sendable {
    public var to: DeliveryState
    public var error: String?
    public var nextAttemptAt: Date?
    public var receiptID: String?

    public init(to: DeliveryState, error: String? = nil, nextAttemptAt: Date? = nil, receiptID: String? = nil) {
        self.to = to
        self.error = error
        self.nextAttemptAt = nextAttemptAt
        self.receiptID = receiptID
    }
}

public struct StoreError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The durable queue. The embedded default is SQLite (`SQLiteMessageStore`); the protocol is
/// shaped for a PostgreSQL implementation shared by several gateway instances: `leaseDue`
/// is one statement there (`UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`), and
/// every method is one transaction.
public protocol MessageStore: Sendable {
    /// Stores the message durably before returning; idempotent per (message id, recipient).
    func enqueue(_ message: OutboundMessage, now: Date) throws -> EnqueueOutcome

    /// Leases up to `limit` due records to `owner` until `now + duration`, urgent first,
    /// then oldest due. Leases that expired (a worker that crashed) return to the queue first.
    func leaseDue(owner: String, now: Date, duration: TimeInterval, limit: Int) throws -> [OutboundRecord]

    /// Moves a record along the state machine; refuses a move the machine does not allow.
    func transition(_ id: Int64, _ transition: Transition, now: Date) throws -> OutboundRecord

    func record(_ id: Int64) throws -> OutboundRecord?

    /// The decrypted payload of a record.
    func payload(of id: Int64) throws -> Data

    /// Records, newest first, optionally filtered.
    func records(state: DeliveryState?, recipientType: String?, limit: Int) throws -> [OutboundRecord]

    /// Number of records per state.
    func countsByState() throws -> [DeliveryState: Int]
}
