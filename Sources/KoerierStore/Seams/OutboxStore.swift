import Foundation

/// The outbound queue: records, their leases and their life (`DeliveryState`). Every
/// method is one transaction in which the change and its audit entry commit together, or
/// part of the caller's unit of work (`MessageStore.transaction`). The calls block: make
/// them from the delivery executor or a command-line thread, never from Swift's
/// cooperative pool (async code uses `MessageStore.transaction(_:) async`).
public protocol OutboxStore: Sendable {
    /// Encrypts the payload for this store, on the caller's thread.
    func seal(_ message: OutboundMessage) throws -> SealedOutboundMessage

    /// Stores several sealed messages in one transaction (one disk flush): group commit.
    /// The outcomes are in the order of `messages`; all are stored or none.
    func enqueueSealed(_ messages: [SealedOutboundMessage], now: Date, context: AuditContext) throws -> [EnqueueOutcome]

    /// Leases up to `limit` due records (of one recipient, when given) to `owner` until
    /// `now + duration`, urgent first, then oldest due, each under a fresh token. Leases
    /// that expired (a worker that crashed or stalled) return to the queue first, audited.
    /// `laneLimit`: the most transfers to this recipient in flight on the whole store, every
    /// daemon's together (a store with one daemon leaves that to the daemon's lane).
    func leaseDue(
        owner: String, now: Date, duration: TimeInterval, limit: Int, recipientID: String?, laneLimit: Int?, dueBy: Date?,
        context: AuditContext
    ) throws -> [OutboundRecord]

    /// The recipients that have records due by `dueBy` (or whose lease expired): the
    /// scheduler's lanes with work. With `among`, only those recipients are looked at, each
    /// with one index lookup; without, the whole queue is scanned (to find records for
    /// recipients the directory no longer knows).
    func dueRecipients(among: [String]?, dueBy: Date) throws -> [String]

    /// Makes a recipient's retrying records due now (its partner answered again after an outage).
    func expediteRetries(recipientID: String, now: Date) throws -> Int

    /// Moves a record along the state machine; refuses a move the machine does not allow.
    /// A record being sent moves only with its current lease token (`LeaseLost` otherwise).
    func transition(_ id: Int64, _ transition: Transition, lease: String?, now: Date, context: AuditContext) throws -> OutboundRecord

    /// Keeps a lease alive while its transfer runs; `LeaseLost` when it is no longer held.
    func extendLease(_ id: Int64, lease: String, until: Date, now: Date) throws

    /// Returns a leased record to the queue until `until` without counting the attempt.
    func releaseLease(_ id: Int64, lease: String, until: Date, reason: String, now: Date, context: AuditContext) throws -> OutboundRecord

    /// Returns to the queue every record still leased to `owner`: at start-up, the leases a
    /// previous run of the same daemon held when it was killed.
    func releaseLeases(owner: String, now: Date, context: AuditContext) throws -> Int

    /// Moves a record on and keeps the receipt that proved the delivery, in one transaction.
    func settle(_ id: Int64, _ transition: Transition, lease: String, receipt: InboundMessage, now: Date, context: AuditContext) throws
        -> OutboundRecord

    func record(_ id: Int64) throws -> OutboundRecord?

    /// Records, newest first, optionally filtered.
    func records(state: DeliveryState?, recipientType: String?, since: Date?, limit: Int) throws -> [OutboundRecord]

    /// Records queued with this message id or delivered under it (a derived copy).
    func records(sentOrQueuedMessageID id: String) throws -> [OutboundRecord]

    /// The record whose bytes that leave have this message id, with their SHA-256.
    func record(sentMessageID: String) throws -> (record: OutboundRecord, digest: String)?

    /// The payloads of leased records, for sending, in one query (the leases' audit entries
    /// cover the access). A payload that is missing or cannot be opened fails only its own
    /// record, so one bad record never holds the others' leases back.
    func deliveryPayloads(of ids: [Int64]) throws -> [Int64: Result<Data, StoreError>]

    /// The decrypted payload of a record; reading it is an audited event.
    func payload(of id: Int64, now: Date, context: AuditContext) throws -> Data

    /// Number of records per state and recipient type (maintained, not counted: fast at any size).
    func counts() throws -> [(state: DeliveryState, recipientType: String, count: Int)]

    /// Records not yet finished, by recipient, state and age bucket (`QueueShape`).
    func queueShape(now: Date) throws -> [QueueShapeRow]
    /// The oldest record still waiting to be sent, and pending urgent records created before
    /// `urgentBefore` (all counted, the oldest 100 listed).
    func pendingSummary(urgentBefore: Date) throws -> PendingSummary

    /// Removes acknowledged and delivered records last changed before `date` (retention), in
    /// batches of a transaction each; `progress` gets the number removed so far after each.
    func purge(deliveredBefore date: Date, now: Date, context: AuditContext, progress: (Int) -> Void) throws -> Int
}

extension OutboxStore {
    /// The payload of one leased record, for sending.
    public func deliveryPayload(of id: Int64) throws -> Data {
        guard let payload = try deliveryPayloads(of: [id])[id] else { throw StoreError("no record \(id)") }
        return try payload.get()
    }

    /// Leases due records of any recipient.
    public func leaseDue(owner: String, now: Date, duration: TimeInterval, limit: Int, context: AuditContext) throws -> [OutboundRecord] {
        try leaseDue(
            owner: owner, now: now, duration: duration, limit: limit, recipientID: nil, laneLimit: nil, dueBy: nil, context: context)
    }

    /// An ops or receipt move of a record nobody holds a lease on.
    public func transition(_ id: Int64, _ transition: Transition, now: Date, context: AuditContext) throws -> OutboundRecord {
        try self.transition(id, transition, lease: nil, now: now, context: context)
    }

    /// Puts every dead record back in the queue, due now (`koerier retry --dead`); each
    /// move is audited. Returns the records as they are now; `progress` gets (done, total).
    public func requeueDead(now: Date, context: AuditContext, progress: (Int, Int) -> Void = { _, _ in }) throws -> [OutboundRecord] {
        let dead = try records(state: .dead, recipientType: nil, since: nil, limit: 1_000_000)
        return try dead.enumerated().map { index, record in
            defer { progress(index + 1, dead.count) }
            return try transition(record.id, Transition(to: .queued), now: now, context: context)
        }
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
