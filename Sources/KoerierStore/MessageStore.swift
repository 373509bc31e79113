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
    /// Pseudonymous client reference for the audit log (`ClientReferencer`), if the
    /// message concerns a client.
    public var clientReference: String?
    /// Set when `payload` is exactly what leaves for this recipient (decided and signed at
    /// enqueue): its own message id and SHA-256, on record before the first attempt, so a
    /// retry sends the same bytes and a late receipt can be matched.
    public var prepared: PreparedCopy?

    public init(
        messageID: MessageID, kind: MessageKind, recipientID: String, recipientType: RecipientType,
        transactionID: TransactionID, urgency: Urgency, payload: Data, clientReference: String? = nil,
        prepared: PreparedCopy? = nil
    ) {
        self.clientReference = clientReference
        self.prepared = prepared
        self.messageID = messageID
        self.kind = kind
        self.recipientID = recipientID
        self.recipientType = recipientType
        self.transactionID = transactionID
        self.urgency = urgency
        self.payload = payload
    }
}

/// The identity of the bytes that leave for one recipient.
public struct PreparedCopy: Sendable, Equatable {
    public let messageID: MessageID
    /// SHA-256 of the bytes, lowercase hex (what a receipt must name).
    public let digest: String

    public init(messageID: MessageID, digest: String) {
        self.messageID = messageID
        self.digest = digest
    }
}

/// A message whose payload is already encrypted for the store that sealed it. Sealing is
/// CPU work that callers do on their own threads, so a group-commit flusher only writes.
public struct SealedOutboundMessage: Sendable {
    public let message: OutboundMessage
    let keyID: String
    let sealedPayload: Data
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
    public let clientReference: String?
    public let createdAt: Date
    public let updatedAt: Date
    public let keyID: String
    /// The current lease's token while `sending`: the proof a worker shows to settle it.
    public let leaseToken: String?
    /// The message id of the bytes that leave, when they were decided at enqueue (the
    /// payload is then sent as it is, on every attempt).
    public let preparedMessageID: String?
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
    /// The id and SHA-256 of the bytes that left (a receipt must answer these).
    public var sentMessageID: String?
    public var sentDigest: String?

    public init(
        to: DeliveryState, error: String? = nil, nextAttemptAt: Date? = nil, receiptID: String? = nil,
        sentMessageID: String? = nil, sentDigest: String? = nil
    ) {
        self.to = to
        self.error = error
        self.nextAttemptAt = nextAttemptAt
        self.receiptID = receiptID
        self.sentMessageID = sentMessageID
        self.sentDigest = sentDigest
    }
}

/// Who does something to the store, and from where: the audit log's actor and access point.
public struct AuditContext: Sendable {
    public var actor: String
    public var onBehalfOf: String?
    public var accessPoint: String

    public init(actor: String, onBehalfOf: String? = nil, accessPoint: String) {
        self.actor = actor
        self.onBehalfOf = onBehalfOf
        self.accessPoint = accessPoint
    }
}

/// A message that arrived, as the inbound queue keeps it.
public struct InboundMessage: Sendable {
    public var messageID: MessageID
    public var kind: MessageKind
    public var sender: String
    public var payload: Data
    public var clientReference: String?

    public init(messageID: MessageID, kind: MessageKind, sender: String, payload: Data, clientReference: String? = nil) {
        self.messageID = messageID
        self.kind = kind
        self.sender = sender
        self.payload = payload
        self.clientReference = clientReference
    }
}

public struct InboundRecord: Sendable, Equatable {
    public let messageID: String
    public let kind: String
    public let sender: String
    public let state: InboundState
    public let reason: String?
    public let receivedAt: Date
    public let updatedAt: Date
}

/// The record's lease is no longer the caller's: it expired and the record went back to
/// the queue (perhaps to another worker). The caller's change was not recorded.
public struct LeaseLost: Error, CustomStringConvertible, Sendable {
    public let recordID: Int64
    public init(recordID: Int64) { self.recordID = recordID }
    public var description: String { "record \(recordID): the lease was lost (expired and taken back); nothing was recorded" }
}

public struct StoreError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The durable queues and the audit log. The embedded default is SQLite
/// (`SQLiteMessageStore`); the protocol is shaped for a PostgreSQL implementation shared
/// by several gateway instances: `leaseDue` is one statement there
/// (`UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`), and every method is one
/// transaction in which the change and its audit entry commit together.
public protocol MessageStore: Sendable {
    /// Encrypts the payload for this store, on the caller's thread.
    func seal(_ message: OutboundMessage) throws -> SealedOutboundMessage

    /// Stores several sealed messages in one transaction (one disk flush): group commit.
    /// The outcomes are in the order of `messages`; all are stored or none.
    func enqueueSealed(_ messages: [SealedOutboundMessage], now: Date, context: AuditContext) throws -> [EnqueueOutcome]

    /// Leases up to `limit` due records (of one recipient, when given) to `owner` until
    /// `now + duration`, urgent first, then oldest due, each under a fresh token. Leases
    /// that expired (a worker that crashed or stalled) return to the queue first, audited.
    func leaseDue(
        owner: String, now: Date, duration: TimeInterval, limit: Int, recipientID: String?, dueBy: Date?, context: AuditContext
    ) throws -> [OutboundRecord]

    /// The recipients that have records due by `dueBy`: the scheduler's lanes with work.
    func dueRecipients(dueBy: Date) throws -> [String]

    /// Makes a recipient's retrying records due now (its partner answered again after an outage).
    func expediteRetries(recipientID: String, now: Date) throws -> Int

    /// Moves a record along the state machine; refuses a move the machine does not allow.
    /// A record being sent moves only with its current lease token (`LeaseLost` otherwise).
    func transition(_ id: Int64, _ transition: Transition, lease: String?, now: Date, context: AuditContext) throws -> OutboundRecord

    /// Keeps a lease alive while its transfer runs; `LeaseLost` when it is no longer held.
    func extendLease(_ id: Int64, lease: String, until: Date, now: Date) throws

    func record(_ id: Int64) throws -> OutboundRecord?

    /// The decrypted payload of a record; reading it is an audited event.
    func payload(of id: Int64, now: Date, context: AuditContext) throws -> Data

    /// Records, newest first, optionally filtered.
    func records(state: DeliveryState?, recipientType: String?, since: Date?, limit: Int) throws -> [OutboundRecord]

    /// Number of records per state and recipient type (maintained, not counted: fast at any size).
    func counts() throws -> [(state: DeliveryState, recipientType: String, count: Int)]

    /// Number of inbound messages per state.
    func inboundCounts() throws -> [InboundState: Int]

    /// The oldest record still waiting to be sent, and pending urgent records created before `urgentBefore`.
    func pendingSummary(urgentBefore: Date) throws -> (oldestPending: Date?, lateUrgent: [OutboundRecord])

    /// Removes acknowledged and delivered records last changed before `date` (retention).
    func purge(deliveredBefore date: Date, now: Date, context: AuditContext) throws -> Int

    /// Stores an arrived message before returning; a second arrival of the same id is a duplicate.
    func receive(_ message: InboundMessage, now: Date, context: AuditContext) throws -> (record: InboundRecord, duplicate: Bool)

    func markInbound(_ messageID: String, _ state: InboundState, reason: String?, now: Date, context: AuditContext) throws -> InboundRecord

    func inbound(state: InboundState?, limit: Int) throws -> [InboundRecord]

    func auditEntries(limit: Int) throws -> [AuditEntry]

    /// The first break in the audit chain, or nil when it is whole.
    func verifyAudit() throws -> String?

    /// Returns a leased record to the queue until `until` without counting the attempt
    /// (its recipient is paused; nothing was sent).
    func releaseLease(_ id: Int64, lease: String, until: Date, reason: String, now: Date, context: AuditContext) throws -> OutboundRecord

    /// The payload of a leased record, for sending (the lease's audit entry covers the access).
    func deliveryPayload(of id: Int64) throws -> Data

    /// Stores an arrived message that needs no further step as processed, in one
    /// transaction; true when its id was there already.
    func receiveProcessed(_ message: InboundMessage, now: Date, context: AuditContext) throws -> Bool

    /// Moves a record on and keeps the receipt that proved the delivery, in one transaction.
    func settle(_ id: Int64, _ transition: Transition, lease: String, receipt: InboundMessage, now: Date, context: AuditContext) throws
        -> OutboundRecord

    /// The record whose delivered bytes had this message id, with their SHA-256.
    func record(sentMessageID: String) throws -> (record: OutboundRecord, digest: String)?

    /// Records (or replaces) a client's consent: which recipient types may hear about them.
    func recordConsent(_ consent: ConsentRecord, now: Date, context: AuditContext) throws

    func consent(clientReference: String) throws -> ConsentRecord?
}

/// A client's consent, as the delivery adapters read it; keyed by the client reference
/// (never the BSN).
public struct ConsentRecord: Sendable, Equatable {
    public var clientReference: String
    public var allowed: Set<RecipientType>
    public var recordedOn: String
    public var sourceMessageID: String

    public init(clientReference: String, allowed: Set<RecipientType>, recordedOn: String, sourceMessageID: String) {
        self.clientReference = clientReference
        self.allowed = allowed
        self.recordedOn = recordedOn
        self.sourceMessageID = sourceMessageID
    }
}

extension MessageStore {
    /// Leases due records of any recipient.
    public func leaseDue(owner: String, now: Date, duration: TimeInterval, limit: Int, context: AuditContext) throws -> [OutboundRecord] {
        try leaseDue(owner: owner, now: now, duration: duration, limit: limit, recipientID: nil, dueBy: nil, context: context)
    }

    /// An ops or receipt move of a record nobody holds a lease on.
    public func transition(_ id: Int64, _ transition: Transition, now: Date, context: AuditContext) throws -> OutboundRecord {
        try self.transition(id, transition, lease: nil, now: now, context: context)
    }

    /// Stores the message durably before returning; idempotent per (message id, recipient).
    public func enqueue(_ message: OutboundMessage, now: Date, context: AuditContext) throws -> EnqueueOutcome {
        guard let outcome = try enqueueBatch([message], now: now, context: context).first else {
            throw StoreError("enqueue stored nothing")
        }
        return outcome
    }

    /// Seals and stores several messages in one transaction.
    public func enqueueBatch(_ messages: [OutboundMessage], now: Date, context: AuditContext) throws -> [EnqueueOutcome] {
        try enqueueSealed(messages.map(seal), now: now, context: context)
    }
}
