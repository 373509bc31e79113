import Foundation
import GRDB
import KoerierModel

/// Receipt matching.
extension SQLiteMessageStore {
    /// The payloads of leased records, for sending them. Not separate audit entries: each
    /// lease's `send` entry records this access.
    public func deliveryPayloads(of ids: [Int64]) throws -> [Int64: Result<Data, StoreError>] {
        guard !ids.isEmpty else { return [:] }
        let rows = try read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT id, key_id, message_id, payload FROM outbox WHERE id IN (\(databaseQuestionMarks(count: ids.count)))"),
                arguments: StatementArguments(ids))
        }
        var payloads: [Int64: Result<Data, StoreError>] = [:]
        for row in rows {
            let id: Int64 = row["id"]
            payloads[id] = Result {
                try openPayload(row["payload"], keyID: row["key_id"], boundTo: row["message_id"], in: .outbox)
            }.mapError { StoreError("record \(id): \($0)") }
        }
        return payloads
    }

    /// A delivery's outcome and the receipt that proved it, in one transaction: the receipt
    /// joins the inbound queue (processed) and the record moves on.
    public func settle(_ id: Int64, _ transition: Transition, lease: String, receipt: InboundMessage, now: Date, context: AuditContext)
        throws -> OutboundRecord
    {
        let sealed = try seal(receipt.payload, boundTo: receipt.messageID.value)
        return try write { db in
            // The fenced move first: a lost lease throws before anything is written, so a
            // caller's unit of work can skip this settlement and keep the others.
            let moved = try Self.transition(id, transition, lease: lease, now: now, context: context, in: db)
            try Self.insertProcessed(receipt, sealed: sealed, outcome: "receipt processed", at: now, context: context, in: db)
            return moved
        }
    }

    /// Stores an arrived message that needs no further step (a receipt, a letter for this
    /// gateway) as processed, in one transaction; true when it was there already.
    public func receiveProcessed(_ message: InboundMessage, now: Date, context: AuditContext) throws -> Bool {
        let sealed = try seal(message.payload, boundTo: message.messageID.value)
        return try write(addsData: true) { db in
            try !Self.insertProcessed(message, sealed: sealed, outcome: "processed", at: now, context: context, in: db)
        }
    }

    /// Inserts an inbound message as processed, with its audit entry, unless its id is
    /// there already; true when it was inserted.
    @discardableResult
    static func insertProcessed(
        _ message: InboundMessage, sealed: (keyID: String, data: Data), outcome: String, at now: Date,
        context: AuditContext, in db: Database
    ) throws -> Bool {
        let time = now.timeIntervalSince1970
        try db.cachedStatement(
            sql: """
                INSERT INTO inbox (message_id, kind, sender, state, client_ref, received_at, updated_at, key_id, payload)
                VALUES (?, ?, ?, 'processed', ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING
                """
        ).execute(arguments: [
            message.messageID.value, message.kind.rawValue, message.sender, message.clientReference, time, time,
            sealed.keyID, sealed.data,
        ])
        let inserted = db.changesCount > 0
        try AuditChain.append(
            AuditEvent(
                kind: .receive, actor: context.actor, onBehalfOf: context.onBehalfOf,
                clientReference: message.clientReference, messageID: message.messageID.value,
                accessPoint: context.accessPoint, outcome: inserted ? outcome : "duplicate"), at: now, in: db)
        return inserted
    }

    /// Returns to the queue every record still leased to `owner`: at start-up, the leases a
    /// previous run of the same worker held when it was killed (no need to wait for expiry).
    public func releaseLeases(owner: String, now: Date, context: AuditContext) throws -> Int {
        try write { db in
            let ids = try Int64.fetchAll(
                db.cachedStatement(sql: "SELECT id FROM outbox WHERE state = 'sending' AND lease_owner = ?"), arguments: [owner])
            for id in ids {
                try db.cachedStatement(
                    sql: """
                        UPDATE outbox SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, lease_token = NULL,
                            updated_at = ? WHERE id = ?
                        """
                ).execute(
                    arguments: [now.timeIntervalSince1970, id])
                if let record = try Self.fetch(db, id: id) {
                    try Self.audit(.retry, record, context, outcome: "lease of a stopped run released", at: now, in: db)
                }
            }
            return ids.count
        }
    }

    /// An audit entry on its own (e.g. a message refused at intake).
    public func recordAudit(_ event: AuditEvent, now: Date) throws {
        try write { db in try AuditChain.append(event, at: now, in: db) }
    }

    public func releaseLease(_ id: Int64, lease: String, until: Date, reason: String, now: Date, context: AuditContext) throws
        -> OutboundRecord
    {
        try write { db in
            try db.cachedStatement(
                sql: """
                    UPDATE outbox SET state = 'queued', attempts = MAX(attempts - 1, 0), next_attempt_at = ?, lease_owner = NULL,
                        lease_expires_at = NULL, lease_token = NULL, updated_at = ? WHERE id = ? AND state = 'sending' AND lease_token = ?
                    """
            ).execute(arguments: [until.timeIntervalSince1970, now.timeIntervalSince1970, id, lease])
            guard db.changesCount == 1 else { throw LeaseLost(recordID: id) }
            guard let updated = try Self.fetch(db, id: id) else { throw StoreError("record \(id) vanished") }
            try Self.audit(.retry, updated, context, outcome: "not sent: \(reason)", at: now, in: db)
            return updated
        }
    }

    /// Records queued with this message id or delivered under it (a derived notice).
    public func records(sentOrQueuedMessageID id: String) throws -> [OutboundRecord] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.columns) FROM outbox WHERE message_id = ? OR sent_message_id = ? ORDER BY id",
                arguments: [id, id]
            ).map(Self.record)
        }
    }

    public func record(sentMessageID: String) throws -> (record: OutboundRecord, digest: String)? {
        try read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT \(Self.columns), sent_digest FROM outbox WHERE sent_message_id = ?",
                    arguments: [sentMessageID]),
                let digest: String = row["sent_digest"]
            else { return nil }
            return (try Self.record(row), digest)
        }
    }
}
