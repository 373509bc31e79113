import Foundation
import KoerierModel
import PostgresNIO

/// The outbound queue on PostgreSQL.
extension PostgresMessageStore {
    /// The record's columns, qualified with `table` where a statement joins another.
    static func columns(_ table: String = "") -> String {
        let prefix = table.isEmpty ? "" : table + "."
        return [
            "id", "message_id", "recipient_id", "kind", "recipient_type", "transaction_id", "urgency", "state", "attempts",
            "next_attempt_at", "lease_owner", "lease_expires_at", "last_error", "receipt_id", "client_ref", "created_at", "updated_at",
            "key_id", "lease_token", "prepared", "sent_message_id",
        ].map { prefix + $0 }.joined(separator: ", ")
    }

    static func record(_ row: PostgresRow) throws -> OutboundRecord {
        let cells = row.makeRandomAccess()
        let id = try cells["id"].decode(Int64.self)
        let stateName = try cells["state"].decode(String.self)
        guard let state = DeliveryState(rawValue: stateName) else { throw StoreError("record \(id) has unknown state \(stateName)") }
        let prepared = try cells["prepared"].decode(Bool.self)
        return OutboundRecord(
            id: id, messageID: try cells["message_id"].decode(String.self), kind: try cells["kind"].decode(String.self),
            recipientID: try cells["recipient_id"].decode(String.self), recipientType: try cells["recipient_type"].decode(String.self),
            transactionID: try cells["transaction_id"].decode(String.self),
            urgency: Urgency(rank: try cells["urgency"].decode(Int.self)) ?? .routine, state: state,
            attempts: try cells["attempts"].decode(Int.self),
            nextAttemptAt: Date(timeIntervalSince1970: try cells["next_attempt_at"].decode(Double.self)),
            leaseOwner: try cells["lease_owner"].decode(String?.self),
            leaseExpiresAt: try cells["lease_expires_at"].decode(Double?.self).map(Date.init(timeIntervalSince1970:)),
            lastError: try cells["last_error"].decode(String?.self), receiptID: try cells["receipt_id"].decode(String?.self),
            clientReference: try cells["client_ref"].decode(String?.self),
            createdAt: Date(timeIntervalSince1970: try cells["created_at"].decode(Double.self)),
            updatedAt: Date(timeIntervalSince1970: try cells["updated_at"].decode(Double.self)),
            keyID: try cells["key_id"].decode(String.self), leaseToken: try cells["lease_token"].decode(String?.self),
            preparedMessageID: prepared ? try cells["sent_message_id"].decode(String?.self) : nil)
    }

    static func fetch(_ id: Int64, in transaction: PostgresTransaction, locking: Bool = false) throws -> OutboundRecord? {
        try transaction.run(
            "SELECT \(unescaped: columns()) FROM outbox WHERE id = \(id) \(unescaped: locking ? "FOR UPDATE" : "")"
        ).rows.first.map(record)
    }

    /// Sorts claimed records as the claim ordered them (RETURNING keeps no order).
    static func inClaimOrder(_ records: [OutboundRecord]) -> [OutboundRecord] {
        records.sorted {
            ($0.urgency.rank, -$0.nextAttemptAt.timeIntervalSince1970, -$0.id) > (
                $1.urgency.rank, -$1.nextAttemptAt.timeIntervalSince1970, -$1.id
            )
        }
    }

    func enqueueSealed(_ messages: [SealedOutboundMessage], now: Date, context: AuditContext) throws -> [EnqueueOutcome] {
        let time = now.timeIntervalSince1970
        return try write { transaction in
            let outcomes = try messages.map { sealed -> EnqueueOutcome in
                let message = sealed.message
                // The unique key decides between concurrent enqueues of the same letter, on any daemon.
                let inserted = try transaction.run(
                    """
                    INSERT INTO outbox (message_id, recipient_id, kind, recipient_type, transaction_id, urgency, state, attempts,
                                        next_attempt_at, client_ref, created_at, updated_at, key_id, payload,
                                        prepared, sent_message_id, sent_digest)
                    VALUES (\(message.messageID.value), \(message.recipientID), \(message.kind.rawValue), \(message.recipientType.rawValue),
                            \(message.transactionID.value), \(message.urgency.rank), 'queued', 0, \(time), \(message.clientReference),
                            \(time), \(time), \(sealed.keyID), \(sealed.sealedPayload), \(message.prepared != nil),
                            \(message.prepared?.messageID.value), \(message.prepared?.digest))
                    ON CONFLICT (message_id, recipient_id) DO NOTHING RETURNING \(unescaped: Self.columns())
                    """
                ).rows.first.map(Self.record)
                if let stored = inserted {
                    transaction.audit(OutboxAudit.event(.enqueue, stored, context), at: now)
                    transaction.wakesDelivery = true
                    return .stored(stored)
                }
                guard
                    let existing = try transaction.run(
                        """
                        SELECT \(unescaped: Self.columns()) FROM outbox
                        WHERE message_id = \(message.messageID.value) AND recipient_id = \(message.recipientID)
                        """
                    ).rows.first.map(Self.record)
                else { throw StoreError("enqueue: the record of message \(message.messageID.value) vanished") }
                transaction.audit(OutboxAudit.event(.enqueue, existing, context, outcome: "duplicate"), at: now)
                return .duplicate(existing)
            }
            return outcomes
        }
    }

    /// Claims with one statement: due rows, urgent first, locked with SKIP LOCKED so that
    /// daemons claiming at the same moment each get other rows and never wait on each other.
    /// With a lane limit, the lane's claims are serialized (a transaction-scoped advisory lock
    /// per recipient) and count every daemon's live leases, so the partner never sees more
    /// transfers at once than its directory entry allows, however many daemons there are.
    func leaseDue(
        owner: String, now: Date, duration: TimeInterval, limit: Int, recipientID: String?, laneLimit: Int?, dueBy: Date?,
        context: AuditContext
    ) throws -> [OutboundRecord] {
        let time = now.timeIntervalSince1970
        return try write { transaction in
            let clock = try databaseClock.databaseTime(now, using: transaction)
            try reclaimExpiredLeases(clock: clock, now: now, context: context, in: transaction)
            var limit = limit
            if let recipientID, let laneLimit {
                // The lock first, the count in a statement of its own: its snapshot must see the
                // claims of whoever held the lock before.
                try transaction.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.laneLockSpace), hashtext(\(recipientID)))")
                let inFlight =
                    try transaction.run(
                        """
                        SELECT count(*) FROM outbox
                        WHERE recipient_id = \(recipientID) AND state = 'sending' AND lease_expires_at >= \(clock)
                        """
                    ).rows.first?.decode(Int64.self) ?? 0
                limit = min(limit, laneLimit - Int(inFlight))
                guard limit > 0 else { return [] }
            }
            let due = (dueBy ?? now).timeIntervalSince1970
            let lane = recipientID.map { _ in "AND recipient_id = $2" } ?? "AND $2::text IS NULL"
            var bindings = PostgresBindings()
            bindings.append(due)
            bindings.append(recipientID)
            bindings.append(limit)
            bindings.append(owner)
            bindings.append(clock + duration)
            bindings.append(time)
            let claimed = try transaction.run(
                PostgresQuery(
                    unsafeSQL: """
                        WITH claim AS (
                            SELECT id FROM outbox WHERE state IN ('queued', 'retrying') AND next_attempt_at <= $1 \(lane)
                            ORDER BY urgency DESC, next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
                        UPDATE outbox SET state = 'sending', lease_owner = $4, lease_expires_at = $5,
                            lease_token = gen_random_uuid()::text, attempts = outbox.attempts + 1, updated_at = $6
                        FROM claim WHERE outbox.id = claim.id RETURNING \(Self.columns("outbox"))
                        """, binds: bindings)
            ).rows.map(Self.record)
            let leased = Self.inClaimOrder(claimed)
            for record in leased {
                transaction.audit(OutboxAudit.event(.send, record, context, outcome: "attempt \(record.attempts)"), at: now)
            }
            return leased
        }
    }

    /// Leases that ran out on the database's clock (a daemon that died or stalled) return
    /// to the queue, audited; their tokens die with them, so a stalled holder that wakes up
    /// can no longer settle. Rows being settled right now are skipped, not waited for.
    func reclaimExpiredLeases(clock: Double, now: Date, context: AuditContext, in transaction: PostgresTransaction) throws {
        let rows = try transaction.run(
            """
            WITH expired AS (
                SELECT id, lease_owner AS previous_owner FROM outbox WHERE state = 'sending' AND lease_expires_at < \(clock)
                FOR UPDATE SKIP LOCKED)
            UPDATE outbox SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, lease_token = NULL,
                updated_at = \(now.timeIntervalSince1970)
            FROM expired WHERE outbox.id = expired.id RETURNING \(unescaped: Self.columns("outbox")), expired.previous_owner
            """
        ).rows
        for row in rows {
            let record = try Self.record(row)
            let previous = try row.makeRandomAccess()["previous_owner"].decode(String?.self) ?? "?"
            transaction.audit(
                OutboxAudit.event(.retry, record, context, outcome: "lease of \(previous) expired: back in the queue"), at: now)
        }
        if !rows.isEmpty { transaction.wakesDelivery = true }
    }

    /// In one order (by id) on every daemon: a pass takes its lanes' locks in this order.
    func dueRecipients(among: [String]?, dueBy: Date) throws -> [String] {
        let due = dueBy.timeIntervalSince1970
        return try read { transaction in
            let clock = try databaseClock.databaseTime(Date(), using: transaction)
            let condition = """
                ((state IN ('queued', 'retrying') AND next_attempt_at <= $1) OR (state = 'sending' AND lease_expires_at < $2))
                """
            var bindings = PostgresBindings()
            bindings.append(due)
            bindings.append(clock)
            let sql: String
            if let among {
                bindings.append(among)
                sql = "SELECT DISTINCT recipient_id FROM outbox WHERE recipient_id = ANY($3) AND \(condition) ORDER BY recipient_id"
            } else {
                sql = "SELECT DISTINCT recipient_id FROM outbox WHERE \(condition) ORDER BY recipient_id"
            }
            return try transaction.run(PostgresQuery(unsafeSQL: sql, binds: bindings)).rows.map { try $0.decode(String.self) }
        }
    }

    func expediteRetries(recipientID: String, now: Date) throws -> Int {
        let time = now.timeIntervalSince1970
        return try write { transaction in
            let changed = try transaction.changes(
                "UPDATE outbox SET next_attempt_at = \(time) WHERE recipient_id = \(recipientID) AND state = 'retrying' AND next_attempt_at > \(time)"
            )
            if changed > 0 { transaction.wakesDelivery = true }
            return changed
        }
    }

    func transition(_ id: Int64, _ transition: Transition, lease: String?, now: Date, context: AuditContext) throws -> OutboundRecord {
        try write { try Self.transition(id, transition, lease: lease, now: now, context: context, in: $0) }
    }

    /// Moves a record on; a leased record moves only for the holder of its current token.
    /// The update names the state and token it read, so a concurrent change (another
    /// daemon's reclaim) makes it change nothing, which is `LeaseLost`.
    static func transition(
        _ id: Int64, _ transition: Transition, lease: String?, now: Date, context: AuditContext, in db: PostgresTransaction
    ) throws -> OutboundRecord {
        guard let current = try fetch(id, in: db) else { throw StoreError("no record \(id)") }
        try TransitionRule.check(current, transition, lease: lease)
        let time = now.timeIntervalSince1970
        let keepsLease = transition.to == .sending
        let next = TransitionRule.nextAttempt(transition, now: time)
        guard
            let updated = try db.run(
                """
                UPDATE outbox SET state = \(transition.to.rawValue), last_error = COALESCE(\(transition.error), last_error),
                    next_attempt_at = COALESCE(\(next), next_attempt_at), receipt_id = COALESCE(\(transition.receiptID), receipt_id),
                    lease_owner = CASE WHEN \(keepsLease) THEN lease_owner END,
                    lease_expires_at = CASE WHEN \(keepsLease) THEN lease_expires_at END,
                    lease_token = CASE WHEN \(keepsLease) THEN lease_token END, updated_at = \(time),
                    sent_message_id = COALESCE(\(transition.sentMessageID), sent_message_id),
                    sent_digest = COALESCE(\(transition.sentDigest), sent_digest)
                WHERE id = \(id) AND state = \(current.state.rawValue) AND lease_token IS NOT DISTINCT FROM \(current.leaseToken)
                RETURNING \(unescaped: columns())
                """
            ).rows.first.map(record)
        else { throw LeaseLost(recordID: id) }
        db.audit(
            OutboxAudit.event(
                OutboxAudit.kind(from: current.state, to: transition.to), updated, context,
                outcome: transition.error ?? transition.to.rawValue),
            at: now)
        if transition.to == .queued || transition.to == .retrying { db.wakesDelivery = true }
        return updated
    }

    func extendLease(_ id: Int64, lease: String, until: Date, now: Date) throws {
        try write { transaction in
            let expiry = try databaseClock.databaseTime(until, using: transaction)
            let changed = try transaction.changes(
                """
                UPDATE outbox SET lease_expires_at = \(expiry), updated_at = \(now.timeIntervalSince1970)
                WHERE id = \(id) AND state = 'sending' AND lease_token = \(lease)
                """)
            guard changed == 1 else { throw LeaseLost(recordID: id) }
        }
    }

    func releaseLease(_ id: Int64, lease: String, until: Date, reason: String, now: Date, context: AuditContext) throws -> OutboundRecord {
        try write { transaction in
            guard
                let updated = try transaction.run(
                    """
                    UPDATE outbox SET state = 'queued', attempts = GREATEST(attempts - 1, 0), next_attempt_at = \(until.timeIntervalSince1970),
                        lease_owner = NULL, lease_expires_at = NULL, lease_token = NULL, updated_at = \(now.timeIntervalSince1970)
                    WHERE id = \(id) AND state = 'sending' AND lease_token = \(lease) RETURNING \(unescaped: Self.columns())
                    """
                ).rows.first.map(Self.record)
            else { throw LeaseLost(recordID: id) }
            transaction.audit(OutboxAudit.event(.retry, updated, context, outcome: "not sent: \(reason)"), at: now)
            transaction.wakesDelivery = true
            return updated
        }
    }

    func releaseLeases(owner: String, now: Date, context: AuditContext) throws -> Int {
        try write { transaction in
            let released = try transaction.run(
                """
                UPDATE outbox SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, lease_token = NULL,
                    updated_at = \(now.timeIntervalSince1970)
                WHERE state = 'sending' AND lease_owner = \(owner) RETURNING \(unescaped: Self.columns())
                """
            ).rows.map(Self.record)
            for record in released {
                transaction.audit(OutboxAudit.event(.retry, record, context, outcome: "lease of a stopped run released"), at: now)
            }
            if !released.isEmpty { transaction.wakesDelivery = true }
            return released.count
        }
    }

    func settle(_ id: Int64, _ transition: Transition, lease: String, receipt: InboundMessage, now: Date, context: AuditContext) throws
        -> OutboundRecord
    {
        let sealed = try sealInbound(receipt.payload, boundTo: receipt.messageID.value)
        return try write { transaction in
            // The fenced move first: a lost lease throws before anything is written.
            let moved = try Self.transition(id, transition, lease: lease, now: now, context: context, in: transaction)
            try Self.insertProcessed(receipt, sealed: sealed, outcome: "receipt processed", at: now, context: context, in: transaction)
            return moved
        }
    }

    func record(_ id: Int64) throws -> OutboundRecord? {
        try read { try Self.fetch(id, in: $0) }
    }

    func records(state: DeliveryState?, recipientType: String?, since: Date?, limit: Int) throws -> [OutboundRecord] {
        try read { transaction in
            try transaction.run(
                """
                SELECT \(unescaped: Self.columns()) FROM outbox
                WHERE (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
                  AND (\(recipientType)::text IS NULL OR recipient_type = \(recipientType))
                  AND (\(since?.timeIntervalSince1970)::float8 IS NULL OR created_at >= \(since?.timeIntervalSince1970))
                ORDER BY id DESC LIMIT \(limit)
                """
            ).rows.map(Self.record)
        }
    }

    func records(sentOrQueuedMessageID id: String) throws -> [OutboundRecord] {
        try read { transaction in
            try transaction.run(
                "SELECT \(unescaped: Self.columns()) FROM outbox WHERE message_id = \(id) OR sent_message_id = \(id) ORDER BY id"
            ).rows.map(Self.record)
        }
    }

    func record(sentMessageID: String) throws -> (record: OutboundRecord, digest: String)? {
        try read { transaction in
            guard
                let row = try transaction.run(
                    "SELECT \(unescaped: Self.columns()), sent_digest FROM outbox WHERE sent_message_id = \(sentMessageID) LIMIT 1"
                ).rows.first,
                let digest = try row.makeRandomAccess()["sent_digest"].decode(String?.self)
            else { return nil }
            return (try Self.record(row), digest)
        }
    }

    func deliveryPayloads(of ids: [Int64]) throws -> [Int64: Result<Data, StoreError>] {
        guard !ids.isEmpty else { return [:] }
        let rows = try read { transaction in
            try transaction.run("SELECT id, key_id, message_id, payload FROM outbox WHERE id = ANY(\(ids))").rows.map {
                try $0.decode((Int64, String, String, Data).self)
            }
        }
        var payloads: [Int64: Result<Data, StoreError>] = [:]
        for (id, keyID, messageID, sealed) in rows {
            payloads[id] = Result { try openPayload(sealed, keyID: keyID, boundTo: messageID, in: .outbox) }
                .mapError { StoreError("record \(id): \($0)") }
        }
        return payloads
    }

    func payload(of id: Int64, now: Date, context: AuditContext) throws -> Data {
        let (record, sealed) = try write { transaction -> (OutboundRecord, Data) in
            guard let row = try transaction.run("SELECT \(unescaped: Self.columns()), payload FROM outbox WHERE id = \(id)").rows.first
            else { throw StoreError("no record \(id)") }
            let record = try Self.record(row)
            transaction.audit(OutboxAudit.event(.read, record, context), at: now)
            return (record, try row.makeRandomAccess()["payload"].decode(Data.self))
        }
        return try openPayload(sealed, keyID: record.keyID, boundTo: record.messageID, in: .outbox)
    }

    /// Counted, not maintained: a counts row per state would serialize every daemon's enqueue.
    func counts() throws -> [(state: DeliveryState, recipientType: String, count: Int)] {
        try read { transaction in
            try transaction.run(
                "SELECT state, recipient_type, COUNT(*)::bigint FROM outbox GROUP BY state, recipient_type ORDER BY state, recipient_type"
            ).rows.compactMap { row in
                let (state, type, count) = try row.decode((String, String, Int64).self)
                return DeliveryState(rawValue: state).map { (state: $0, recipientType: type, count: Int(count)) }
            }
        }
    }

    func queueShape(now: Date) throws -> [QueueShapeRow] {
        try read { transaction in
            try transaction.run(PostgresQuery(unsafeSQL: QueueShape.query(now: now))).rows.compactMap { row in
                let (recipient, state, bucket, count) = try row.decode((String, String, Int32, Int64).self)
                return DeliveryState(rawValue: state).map {
                    QueueShapeRow(recipientID: recipient, state: $0, ageBucket: Int(bucket), count: Int(count))
                }
            }
        }
    }

    func pendingSummary(urgentBefore: Date) throws -> PendingSummary {
        try read { transaction in
            let oldest = try transaction.run(
                "SELECT MIN(created_at) FROM outbox WHERE state IN ('queued', 'retrying', 'sending')"
            ).rows.first?.decode(Double?.self)
            let rows = try transaction.run(
                PostgresQuery(
                    unsafeSQL: PendingSummary.lateUrgentQuery(columns: Self.columns(), before: "$1"),
                    binds: {
                        var binds = PostgresBindings()
                        binds.append(urgentBefore.timeIntervalSince1970)
                        return binds
                    }())
            ).rows
            let late = try rows.map(Self.record)
            let lateCount = try rows.first.map { try $0.makeRandomAccess()["late_total"].decode(Int.self) } ?? 0
            return PendingSummary(
                oldestPending: oldest.map(Date.init(timeIntervalSince1970:)), lateUrgent: late, lateUrgentCount: lateCount)
        }
    }

    /// Deletes finished records in batches of a thousand, each its own transaction (outside a
    /// unit of work), so retention never holds many locks or builds one huge transaction.
    func purge(deliveredBefore date: Date, now: Date, context: AuditContext, progress: (Int) -> Void) throws -> Int {
        try Batched.run(insideUnitOfWork: PostgresTransaction.current != nil, progress: progress) {
            try write { transaction in
                let doomed = try transaction.run(
                    """
                    DELETE FROM outbox WHERE id IN (
                        SELECT id FROM outbox WHERE state IN ('delivered', 'acknowledged') AND updated_at < \(date.timeIntervalSince1970)
                        LIMIT \(Batched.size) FOR UPDATE SKIP LOCKED)
                    RETURNING \(unescaped: Self.columns())
                    """
                ).rows.map(Self.record)
                for record in doomed { transaction.audit(OutboxAudit.event(.purge, record, context), at: now) }
                return doomed.count
            }
        }
    }
}
