import Foundation
import GRDB
import KoerierModel

/// The embedded store: one SQLite file in WAL mode with synchronous=FULL, so a change
/// that returned survives a crash or power loss. Payloads are encrypted (AES-256-GCM);
/// metadata stays in plain columns for queries; every change writes its audit entry in
/// the same transaction.
final class SQLiteMessageStore: MessageStore {
    let database: DatabasePool
    private let keys: PayloadKeyRing
    /// Pseudonyms for the audit log, from this store's keys.
    public let clientReferencer: ClientReferencer

    /// Free space the store keeps in reserve: new messages are refused below it, while
    /// state changes and purges (which free space) go on. SQLite on a truly full disk can
    /// fail in ways that are worse than a refusal (a bus error on its shared-memory file
    /// was seen here), so like Postfix's queue_minfree the store never lets it get there.
    public let minimumFreeBytes: Int64
    private let folder: String
    public let executor: BlockingExecutor
    private let grouped = GroupedTransactions()
    /// The audit chain's key (also registered as the connections' SQL function).
    private let chainKey: AuditKey

    init(path: String, keys: PayloadKeyRing, auditKey: AuditKey? = nil, minimumFreeBytes: Int64 = 32 << 20) throws {
        self.minimumFreeBytes = minimumFreeBytes
        // SQLite has one writer: a few threads are enough for async callers' store work.
        executor = BlockingExecutor(name: "koerier-store", maximumThreads: 4)
        let parent = (path as NSString).deletingLastPathComponent
        folder = parent.isEmpty ? "." : parent
        var configuration = Configuration()
        let chainKey = auditKey ?? AuditKey.derived(from: keys)
        self.chainKey = chainKey
        configuration.prepareDatabase { db in
            AuditChain.register(chainKey, on: db)
            // Checkpoint every ~16 MB of WAL rather than 4 MB: letters are several KB each.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 4000")
        }
        configuration.busyMode = .timeout(10)
        do {
            // Owner-only: the metadata names messages and recipients (payloads are encrypted).
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            // Made owner-only before SQLite opens it, whatever the caller's umask: SQLite
            // gives the -wal and -shm files the database file's mode.
            if !FileManager.default.fileExists(atPath: path) {
                let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
                if descriptor >= 0 {
                    fchmod(descriptor, 0o600)
                    close(descriptor)
                }
            }
            database = try DatabasePool(path: path, configuration: configuration)
            // GRDB's pool sets synchronous=NORMAL on its writer after prepareDatabase (WAL's
            // common choice, which may lose the last commits on power loss): put FULL back,
            // so every commit is flushed before it returns.
            try database.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
            try SQLiteMessageStore.migrator.migrate(database)
        } catch {
            throw StoreError("\(path): cannot open the store: \(SQLiteMessageStore.explain(error))")
        }
        self.keys = keys
        // Pseudonyms from the audit key when there is one: it is not rotated with the payload
        // keys, so a client keeps one pseudonym in the log across payload-key rotations.
        clientReferencer = auditKey.map(ClientReferencer.init(auditKey:)) ?? ClientReferencer(keys: keys)
    }

    public func transaction<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
        if OpenTransaction.current != nil { return try body(self) }
        return try write { db in try OpenTransaction.with(db) { try body(self) } }
    }

    public func groupedTransaction<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
        if OpenTransaction.current != nil { return try body(self) }
        return try withoutActuallyEscaping(body) { body in
            var result: T?
            try grouped.run(
                { result = try body(self) },
                write: { batch in
                    // The leader's thread holds the open transaction while every unit runs.
                    try write(addsData: true) { db in try OpenTransaction.with(db) { try batch(db) } }
                })
            guard let result else { throw StoreError("a grouped unit of work returned nothing") }
            return result
        }
    }

    /// Disk full, read-only, locked and corrupt files get a plain explanation.
    static func explain(_ error: Error) -> String {
        guard let sqlite = error as? DatabaseError else { return "\(error)" }
        switch sqlite.resultCode {
        case .SQLITE_FULL: return "the disk is full (nothing was stored)"
        case .SQLITE_IOERR: return "the disk reported an I/O error (nothing was stored)"
        case .SQLITE_READONLY: return "the database is read-only (check the file's and folder's permissions)"
        case .SQLITE_BUSY, .SQLITE_LOCKED: return "the database is locked by another process"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: return "the database file is corrupt or not a Koerier store"
        case .SQLITE_CANTOPEN: return "the database file cannot be opened (missing folder or permissions)"
        default: return sqlite.message ?? "\(sqlite)"
        }
    }

    /// Runs a write transaction, translating SQLite failures into clear store errors. One
    /// that `addsData` (a new message, receipt or consent) first needs the reserve free.
    func write<T>(addsData: Bool = false, _ body: (Database) throws -> T) throws -> T {
        if addsData { try requireFreeSpace() }
        // Inside a unit of work every call joins its transaction.
        if let open = OpenTransaction.current { return try body(open) }
        do {
            return try database.write(body)
        } catch let error as DatabaseError {
            // SQLite's own failures get a plain explanation; the body's errors pass unchanged.
            throw StoreError(SQLiteMessageStore.explain(error))
        }
    }

    private func requireFreeSpace() throws {
        var stats = statvfs()
        guard statvfs(folder, &stats) == 0 else { return }  // unknown: SQLite will say
        let free = Int64(stats.f_bavail) * Int64(stats.f_frsize)
        if free < minimumFreeBytes {
            throw StoreError(
                "the disk is full (nothing was stored): \(free / 1024) KiB free, the store keeps \(minimumFreeBytes / 1024) KiB in reserve")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        if let open = OpenTransaction.current { return try body(open) }
        do {
            return try database.read(body)
        } catch let error as DatabaseError {
            throw StoreError(SQLiteMessageStore.explain(error))
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: outbox and inbox") { db in
            try db.create(table: "outbox") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("message_id", .text).notNull()
                table.column("recipient_id", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("recipient_type", .text).notNull()
                table.column("transaction_id", .text).notNull()
                table.column("urgency", .integer).notNull()  // 2 urgent, 1 soon, 0 routine
                table.column("state", .text).notNull()
                table.column("attempts", .integer).notNull().defaults(to: 0)
                table.column("next_attempt_at", .double).notNull()
                table.column("lease_owner", .text)
                table.column("lease_expires_at", .double)
                table.column("last_error", .text)
                table.column("receipt_id", .text)
                table.column("client_ref", .text)
                table.column("created_at", .double).notNull()
                table.column("updated_at", .double).notNull()
                table.column("key_id", .text).notNull()
                table.column("payload", .blob).notNull()
                table.uniqueKey(["message_id", "recipient_id"])
            }
            try db.create(index: "outbox_due", on: "outbox", columns: ["state", "urgency", "next_attempt_at"])
            try db.create(index: "outbox_state_type", on: "outbox", columns: ["state", "recipient_type"])
            try db.create(table: "inbox") { table in
                table.column("message_id", .text).primaryKey()
                table.column("kind", .text).notNull()
                table.column("sender", .text).notNull()
                table.column("state", .text).notNull()
                table.column("reason", .text)
                table.column("client_ref", .text)
                table.column("received_at", .double).notNull()
                table.column("updated_at", .double).notNull()
                table.column("key_id", .text).notNull()
                table.column("payload", .blob).notNull()
            }
        }
        AuditChain.migrate(&migrator)
        migrator.registerMigration("v3: maintained counts") { db in
            // `status` reads these instead of counting a million rows; triggers keep them exact.
            try db.execute(
                sql: """
                    CREATE TABLE outbox_counts (state TEXT NOT NULL, recipient_type TEXT NOT NULL, n INTEGER NOT NULL,
                                                PRIMARY KEY (state, recipient_type));
                    INSERT INTO outbox_counts SELECT state, recipient_type, COUNT(*) FROM outbox GROUP BY state, recipient_type;
                    CREATE TRIGGER outbox_count_insert AFTER INSERT ON outbox BEGIN
                        INSERT INTO outbox_counts VALUES (NEW.state, NEW.recipient_type, 1)
                        ON CONFLICT (state, recipient_type) DO UPDATE SET n = n + 1;
                    END;
                    CREATE TRIGGER outbox_count_update AFTER UPDATE OF state ON outbox WHEN OLD.state <> NEW.state BEGIN
                        UPDATE outbox_counts SET n = n - 1 WHERE state = OLD.state AND recipient_type = OLD.recipient_type;
                        INSERT INTO outbox_counts VALUES (NEW.state, NEW.recipient_type, 1)
                        ON CONFLICT (state, recipient_type) DO UPDATE SET n = n + 1;
                    END;
                    CREATE TRIGGER outbox_count_delete AFTER DELETE ON outbox BEGIN
                        UPDATE outbox_counts SET n = n - 1 WHERE state = OLD.state AND recipient_type = OLD.recipient_type;
                    END;
                    CREATE INDEX outbox_pending_age ON outbox (state, created_at);
                    CREATE INDEX inbox_state ON inbox (state);
                    """)
        }
        migrator.registerMigration("v4: delivery") { db in
            // What actually left for a record (a derived notice has its own message id), so a
            // receipt that arrives later can be matched by message id and digest.
            try db.alter(table: "outbox") { table in
                table.add(column: "sent_message_id", .text)
                table.add(column: "sent_digest", .text)
            }
            try db.create(index: "outbox_sent", on: "outbox", columns: ["sent_message_id"])
            try db.create(table: "consent") { table in
                table.column("client_ref", .text).primaryKey()
                table.column("allowed", .text).notNull()  // recipient types, comma-separated
                table.column("recorded_on", .text).notNull()
                table.column("source_message_id", .text).notNull()
                table.column("updated_at", .double).notNull()
            }
        }
        migrateTrajectories(&migrator)
        migrator.registerMigration("v6: lease tokens") { db in
            // A fresh random token per lease: only its holder may settle, extend or release it.
            try db.alter(table: "outbox") { table in table.add(column: "lease_token", .text) }
            try db.create(index: "outbox_lane_due", on: "outbox", columns: ["recipient_id", "state", "urgency", "next_attempt_at"])
        }
        migrator.registerMigration("v7: copies prepared at enqueue") { db in
            // 1: the payload is the exact bytes that leave, with sent_message_id and sent_digest
            // on record from the start; 0: records queued before (prepared at each attempt).
            try db.alter(table: "outbox") { table in table.add(column: "prepared", .boolean).notNull().defaults(to: false) }
        }
        migrator.registerMigration("v8: lane order") { db in
            // A lane's due records in the scheduler's order, walked without a sort.
            try db.execute(sql: "CREATE INDEX outbox_lane_order ON outbox (recipient_id, state, urgency DESC, next_attempt_at, id)")
        }
        migrator.registerMigration("v9: one lane index") { db in
            // v6's lane index is a prefix of v8's: every outbox write kept both up to date.
            try db.drop(index: "outbox_lane_due")
        }
        migrateConsent(&migrator)
        migrator.registerMigration("v11: trajectory closing") { db in
            // A referrer's cancellation closes a trajectory: no phase letter follows it.
            try db.alter(table: "trajectory") { table in
                table.add(column: "closed_at", .double)
                table.add(column: "closed_reason", .text)
            }
            try db.create(index: "trajectory_transaction", on: "trajectory", columns: ["transaction_id"])
        }
        AuditChain.migrateRetention(&migrator)
        return migrator
    }

    /// Seals an inbound payload with the current key, bound to the inbox, key and message id.
    func seal(_ payload: Data, boundTo messageID: String) throws -> (keyID: String, data: Data) {
        let box = try keys.seal(payload, boundTo: messageID, in: .inbox)
        return (box.keyID, box.sealed)
    }

    func openPayload(_ sealed: Data, keyID: String, boundTo messageID: String, in table: PayloadTable) throws -> Data {
        try keys.open(sealed, keyID: keyID, boundTo: messageID, in: table)
    }

    // MARK: Outbound

    static let columns = """
        id, message_id, recipient_id, kind, recipient_type, transaction_id, urgency, state, attempts, next_attempt_at,
        lease_owner, lease_expires_at, last_error, receipt_id, client_ref, created_at, updated_at, key_id, lease_token,
        CASE WHEN prepared THEN sent_message_id END AS prepared_message_id
        """

    static func record(_ row: Row) throws -> OutboundRecord {
        let stateName: String = row["state"]
        guard let state = DeliveryState(rawValue: stateName) else {
            throw StoreError("record \(row["id"] as Int64) has unknown state \(stateName)")
        }
        return OutboundRecord(
            id: row["id"], messageID: row["message_id"], kind: row["kind"], recipientID: row["recipient_id"],
            recipientType: row["recipient_type"], transactionID: row["transaction_id"],
            urgency: Urgency(rank: row["urgency"]) ?? .routine, state: state, attempts: row["attempts"],
            nextAttemptAt: Date(timeIntervalSince1970: row["next_attempt_at"]), leaseOwner: row["lease_owner"],
            leaseExpiresAt: (row["lease_expires_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            lastError: row["last_error"], receiptID: row["receipt_id"], clientReference: row["client_ref"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]), updatedAt: Date(timeIntervalSince1970: row["updated_at"]),
            keyID: row["key_id"], leaseToken: row["lease_token"], preparedMessageID: row["prepared_message_id"])
    }

    /// Hot statements are prepared once per connection (GRDB's statement cache).
    static func fetch(_ db: Database, id: Int64) throws -> OutboundRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(columns) FROM outbox WHERE id = ?"), arguments: [id]).map(record)
    }

    static func audit(
        _ kind: AuditEvent.Kind, _ record: OutboundRecord, _ context: AuditContext, outcome: String = "ok",
        at date: Date, in db: Database
    ) throws {
        try AuditChain.append(OutboxAudit.event(kind, record, context, outcome: outcome), at: date, in: db)
    }

    public func seal(_ message: OutboundMessage) throws -> SealedOutboundMessage {
        let box = try keys.seal(message.payload, boundTo: message.messageID.value, in: .outbox)
        return SealedOutboundMessage(message: message, keyID: box.keyID, sealedPayload: box.sealed)
    }

    public func enqueueSealed(_ messages: [SealedOutboundMessage], now: Date, context: AuditContext) throws -> [EnqueueOutcome] {
        let time = now.timeIntervalSince1970
        return try write(addsData: true) { db in
            var audit = try AuditChain.Writer(db)
            let outcomes = try messages.map { sealed -> EnqueueOutcome in
                let message = sealed.message
                if let existing = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT \(Self.columns) FROM outbox WHERE message_id = ? AND recipient_id = ?"),
                    arguments: [message.messageID.value, message.recipientID])
                {
                    let record = try Self.record(existing)
                    try audit.append(OutboxAudit.event(.enqueue, record, context, outcome: "duplicate"), at: now)
                    return .duplicate(record)
                }
                try db.cachedStatement(
                    sql: """
                        INSERT INTO outbox (message_id, recipient_id, kind, recipient_type, transaction_id, urgency, state, attempts,
                                            next_attempt_at, client_ref, created_at, updated_at, key_id, payload,
                                            prepared, sent_message_id, sent_digest)
                        VALUES (?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(arguments: [
                    message.messageID.value, message.recipientID, message.kind.rawValue, message.recipientType.rawValue,
                    message.transactionID.value, message.urgency.rank, time, message.clientReference,
                    time, time, sealed.keyID, sealed.sealedPayload,
                    message.prepared != nil, message.prepared?.messageID.value, message.prepared?.digest,
                ])
                // Built from the values just written: re-reading the row cost a query per message.
                let stored = OutboundRecord(
                    id: db.lastInsertedRowID, messageID: message.messageID.value, kind: message.kind.rawValue,
                    recipientID: message.recipientID, recipientType: message.recipientType.rawValue,
                    transactionID: message.transactionID.value, urgency: message.urgency, state: .queued, attempts: 0,
                    nextAttemptAt: now, leaseOwner: nil, leaseExpiresAt: nil, lastError: nil, receiptID: nil,
                    clientReference: message.clientReference, createdAt: now, updatedAt: now, keyID: sealed.keyID,
                    leaseToken: nil, preparedMessageID: message.prepared?.messageID.value)
                try audit.append(OutboxAudit.event(.enqueue, stored, context), at: now)
                return .stored(stored)
            }
            try audit.finish()
            return outcomes
        }
    }

    /// One daemon per SQLite store: its lane already holds the partner's limit (`laneLimit` unused).
    public func leaseDue(
        owner: String, now: Date, duration: TimeInterval, limit: Int, recipientID: String?, laneLimit: Int?, dueBy: Date?,
        context: AuditContext
    ) throws -> [OutboundRecord] {
        let time = now.timeIntervalSince1970
        return try write { db in
            try Self.reclaimExpiredLeases(at: now, context: context, in: db)
            let due = (dueBy ?? now).timeIntervalSince1970
            let ids =
                try recipientID.map { try Self.dueInLane($0, dueBy: due, limit: limit, in: db) }
                ?? Int64.fetchAll(
                    db.cachedStatement(
                        sql: """
                            SELECT id FROM outbox WHERE state IN ('queued', 'retrying') AND next_attempt_at <= ?
                            ORDER BY urgency DESC, next_attempt_at, id LIMIT ?
                            """), arguments: [due, limit])
            var leased: [OutboundRecord] = []
            for id in ids {
                try db.cachedStatement(
                    sql: """
                        UPDATE outbox SET state = 'sending', lease_owner = ?, lease_expires_at = ?, lease_token = ?,
                            attempts = attempts + 1, updated_at = ?
                        WHERE id = ?
                        """
                ).execute(arguments: [owner, time + duration, UUID().uuidString, time, id])
                if let record = try Self.fetch(db, id: id) {
                    try Self.audit(.send, record, context, outcome: "attempt \(record.attempts)", at: now, in: db)
                    leased.append(record)
                }
            }
            return leased
        }
    }

    public func dueRecipients(among: [String]?, dueBy: Date) throws -> [String] {
        let due = dueBy.timeIntervalSince1970
        let now = Date().timeIntervalSince1970
        return try read { db in
            guard let among else {
                return try String.fetchAll(
                    db.cachedStatement(
                        sql: """
                            SELECT DISTINCT recipient_id FROM outbox
                            WHERE (state IN ('queued', 'retrying') AND next_attempt_at <= ?) OR (state = 'sending' AND lease_expires_at < ?)
                            """), arguments: [due, now])
            }
            let probe = try db.cachedStatement(
                sql: """
                    SELECT EXISTS (SELECT 1 FROM outbox WHERE recipient_id = ? AND state = 'queued' AND next_attempt_at <= ?)
                        OR EXISTS (SELECT 1 FROM outbox WHERE recipient_id = ? AND state = 'retrying' AND next_attempt_at <= ?)
                        OR EXISTS (SELECT 1 FROM outbox WHERE recipient_id = ? AND state = 'sending' AND lease_expires_at < ?)
                    """)
            return try among.filter { id in try Bool.fetchOne(probe, arguments: [id, due, id, due, id, now]) ?? false }
        }
    }

    public func expediteRetries(recipientID: String, now: Date) throws -> Int {
        try write { db in
            try db.cachedStatement(
                sql: "UPDATE outbox SET next_attempt_at = ? WHERE recipient_id = ? AND state = 'retrying' AND next_attempt_at > ?"
            ).execute(
                arguments: [now.timeIntervalSince1970, recipientID, now.timeIntervalSince1970])
            return db.changesCount
        }
    }

    /// A lane's next `limit` due records, urgent first, then oldest due: one ordered index
    /// walk per state (the lane-order index), merged, so a lane with thousands waiting
    /// costs a few index steps rather than a sort.
    static func dueInLane(_ recipientID: String, dueBy: Double, limit: Int, in db: Database) throws -> [Int64] {
        let statement = try db.cachedStatement(
            sql: """
                SELECT id, urgency, next_attempt_at FROM outbox INDEXED BY outbox_lane_order
                WHERE recipient_id = ? AND state = ? AND next_attempt_at <= ?
                ORDER BY urgency DESC, next_attempt_at, id LIMIT ?
                """)
        var candidates: [(id: Int64, urgency: Int, next: Double)] = []
        for state in ["queued", "retrying"] {
            for row in try Row.fetchAll(statement, arguments: [recipientID, state, dueBy, limit]) {
                candidates.append((row[0], row[1], row[2]))
            }
        }
        candidates.sort { ($0.urgency, -$0.next, -$0.id) > ($1.urgency, -$1.next, -$1.id) }
        return candidates.prefix(limit).map(\.id)
    }

    /// Crash recovery: a lease nobody renewed returns its record to the queue, audited, and
    /// its token dies with it (a holder that wakes up later can no longer settle).
    static func reclaimExpiredLeases(at now: Date, context: AuditContext, in db: Database) throws {
        let time = now.timeIntervalSince1970
        let expired = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT \(columns) FROM outbox WHERE state = 'sending' AND lease_expires_at < ?"),
            arguments: [time]
        ).map(record)
        for record in expired {
            try db.cachedStatement(
                sql: """
                    UPDATE outbox SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, lease_token = NULL,
                        updated_at = ? WHERE id = ? AND lease_token IS ?
                    """
            ).execute(arguments: [time, record.id, record.leaseToken])
            try audit(.retry, record, context, outcome: "lease of \(record.leaseOwner ?? "?") expired: back in the queue", at: now, in: db)
        }
    }

    public func transition(_ id: Int64, _ transition: Transition, lease: String?, now: Date, context: AuditContext) throws
        -> OutboundRecord
    {
        try write { db in try Self.transition(id, transition, lease: lease, now: now, context: context, in: db) }
    }

    /// Moves a record on. A leased record (`sending`) moves only for the holder of its
    /// current lease token: the update names the token, and no row changed means the lease
    /// was lost to expiry (nothing is written, not even an audit entry).
    static func transition(
        _ id: Int64, _ transition: Transition, lease: String?, now: Date, context: AuditContext, in db: Database
    ) throws -> OutboundRecord {
        guard let current = try fetch(db, id: id) else { throw StoreError("no record \(id)") }
        try TransitionRule.check(current, transition, lease: lease)
        let time = now.timeIntervalSince1970
        let keepsLease = transition.to == .sending
        let next = TransitionRule.nextAttempt(transition, now: time)
        try db.cachedStatement(
            sql: """
                UPDATE outbox SET state = ?, last_error = COALESCE(?, last_error), next_attempt_at = COALESCE(?, next_attempt_at),
                    receipt_id = COALESCE(?, receipt_id), lease_owner = CASE WHEN ? THEN lease_owner END,
                    lease_expires_at = CASE WHEN ? THEN lease_expires_at END, lease_token = CASE WHEN ? THEN lease_token END,
                    updated_at = ?, sent_message_id = COALESCE(?, sent_message_id), sent_digest = COALESCE(?, sent_digest)
                WHERE id = ? AND state = ? AND lease_token IS ?
                """
        ).execute(arguments: [
            transition.to.rawValue, transition.error, next, transition.receiptID, keepsLease, keepsLease, keepsLease, time,
            transition.sentMessageID, transition.sentDigest, id, current.state.rawValue, current.leaseToken,
        ])
        guard db.changesCount == 1 else { throw LeaseLost(recordID: id) }
        guard let updated = try fetch(db, id: id) else { throw StoreError("record \(id) vanished") }
        try audit(
            OutboxAudit.kind(from: current.state, to: transition.to), updated, context,
            outcome: transition.error ?? transition.to.rawValue, at: now, in: db)
        return updated
    }

    public func extendLease(_ id: Int64, lease: String, until: Date, now: Date) throws {
        try write { db in
            try db.cachedStatement(
                sql: "UPDATE outbox SET lease_expires_at = ?, updated_at = ? WHERE id = ? AND state = 'sending' AND lease_token = ?"
            ).execute(arguments: [until.timeIntervalSince1970, now.timeIntervalSince1970, id, lease])
            guard db.changesCount == 1 else { throw LeaseLost(recordID: id) }
        }
    }

    public func record(_ id: Int64) throws -> OutboundRecord? {
        try read { db in try Self.fetch(db, id: id) }
    }

    public func payload(of id: Int64, now: Date, context: AuditContext) throws -> Data {
        let (record, sealed) = try write { db -> (OutboundRecord, Data) in
            guard let record = try Self.fetch(db, id: id),
                let sealed = try Data.fetchOne(db.cachedStatement(sql: "SELECT payload FROM outbox WHERE id = ?"), arguments: [id])
            else {
                throw StoreError("no record \(id)")
            }
            try Self.audit(.read, record, context, at: now, in: db)
            return (record, sealed)
        }
        return try keys.open(sealed, keyID: record.keyID, boundTo: record.messageID, in: .outbox)
    }

    public func records(state: DeliveryState?, recipientType: String?, since: Date?, limit: Int) throws -> [OutboundRecord] {
        try read { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if let state {
                conditions.append("state = ?")
                arguments.append(state.rawValue)
            }
            if let recipientType {
                conditions.append("recipient_type = ?")
                arguments.append(recipientType)
            }
            if let since {
                conditions.append("created_at >= ?")
                arguments.append(since.timeIntervalSince1970)
            }
            arguments.append(limit)
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(
                db, sql: "SELECT \(Self.columns) FROM outbox \(filter) ORDER BY id DESC LIMIT ?",
                arguments: StatementArguments(arguments)
            ).map(Self.record)
        }
    }

    public func counts() throws -> [(state: DeliveryState, recipientType: String, count: Int)] {
        try read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT state, recipient_type, n FROM outbox_counts WHERE n > 0 ORDER BY state, recipient_type")
            )
            .compactMap { row in
                DeliveryState(rawValue: row["state"]).map {
                    (state: $0, recipientType: row["recipient_type"] as String, count: row["n"] as Int)
                }
            }
        }
    }

    public func queueShape(now: Date) throws -> [QueueShapeRow] {
        try read { db in
            try Row.fetchAll(db, sql: QueueShape.query(now: now)).compactMap { row in
                DeliveryState(rawValue: row["state"]).map {
                    QueueShapeRow(recipientID: row["recipient_id"], state: $0, ageBucket: row["bucket"], count: row["n"])
                }
            }
        }
    }

    public func inboundCounts() throws -> [InboundState: Int] {
        try read { db in
            var counts: [InboundState: Int] = [:]
            for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT state, COUNT(*) AS n FROM inbox GROUP BY state")) {
                if let state = InboundState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    public func pendingSummary(urgentBefore: Date) throws -> PendingSummary {
        try read { db in
            // One indexed lookup per pending state (outbox_pending_age), not a scan.
            let oldest = try ["queued", "retrying", "sending"].compactMap {
                try Double.fetchOne(db.cachedStatement(sql: "SELECT MIN(created_at) FROM outbox WHERE state = ?"), arguments: [$0])
            }.min()
            let rows = try Row.fetchAll(
                db, sql: PendingSummary.lateUrgentQuery(columns: Self.columns, before: "?"),
                arguments: [urgentBefore.timeIntervalSince1970])
            let late = try rows.map(Self.record)
            let lateCount = rows.first.map { $0["late_total"] as Int } ?? 0
            return PendingSummary(
                oldestPending: oldest.map(Date.init(timeIntervalSince1970:)), lateUrgent: late, lateUrgentCount: lateCount)
        }
    }

    public func purge(deliveredBefore date: Date, now: Date, context: AuditContext, progress: (Int) -> Void) throws -> Int {
        try Batched.run(insideUnitOfWork: OpenTransaction.current != nil, progress: progress) {
            try write { db in
                let doomed = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(Self.columns) FROM outbox WHERE state IN ('delivered', 'acknowledged') AND updated_at < ? LIMIT \(Batched.size)
                        """, arguments: [date.timeIntervalSince1970]
                ).map(Self.record)
                for record in doomed {
                    try db.cachedStatement(sql: "DELETE FROM outbox WHERE id = ?").execute(arguments: [record.id])
                    try Self.audit(.purge, record, context, at: now, in: db)
                }
                return doomed.count
            }
        }
    }

    // MARK: Inbound

    private static func inboundRecord(_ row: Row) throws -> InboundRecord {
        guard let state = InboundState(rawValue: row["state"]) else { throw StoreError("inbound message has an unknown state") }
        return InboundRecord(
            messageID: row["message_id"], kind: row["kind"], sender: row["sender"], state: state, reason: row["reason"],
            receivedAt: Date(timeIntervalSince1970: row["received_at"]), updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
    }

    public func receive(_ message: InboundMessage, now: Date, context: AuditContext) throws -> (record: InboundRecord, duplicate: Bool) {
        let (keyID, sealed) = try keys.seal(message.payload, boundTo: message.messageID.value, in: .inbox)
        return try write(addsData: true) { db in
            let event = AuditEvent(
                kind: .receive, actor: context.actor, onBehalfOf: context.onBehalfOf, clientReference: message.clientReference,
                messageID: message.messageID.value, accessPoint: context.accessPoint)
            if let existing = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM inbox WHERE message_id = ?"), arguments: [message.messageID.value])
            {
                var duplicate = event
                duplicate.outcome = "duplicate"
                try AuditChain.append(duplicate, at: now, in: db)
                return (try Self.inboundRecord(existing), true)
            }
            let time = now.timeIntervalSince1970
            try db.cachedStatement(
                sql: """
                    INSERT INTO inbox (message_id, kind, sender, state, client_ref, received_at, updated_at, key_id, payload)
                    VALUES (?, ?, ?, 'received', ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    message.messageID.value, message.kind.rawValue, message.sender, message.clientReference, time, time, keyID, sealed,
                ])
            try AuditChain.append(event, at: now, in: db)
            guard
                let stored = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT * FROM inbox WHERE message_id = ?"), arguments: [message.messageID.value])
            else {
                throw StoreError("received message vanished")
            }
            return (try Self.inboundRecord(stored), false)
        }
    }

    public func markInbound(_ messageID: String, _ state: InboundState, reason: String?, now: Date, context: AuditContext) throws
        -> InboundRecord
    {
        try write { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM inbox WHERE message_id = ?"), arguments: [messageID])
            else {
                throw StoreError("no inbound message \(messageID)")
            }
            let current = try Self.inboundRecord(row)
            guard current.state == .received, state != .received else {
                throw StoreError("inbound message \(messageID) is \(current.state.rawValue); it cannot become \(state.rawValue)")
            }
            try db.cachedStatement(sql: "UPDATE inbox SET state = ?, reason = ?, updated_at = ? WHERE message_id = ?").execute(
                arguments: [state.rawValue, reason, now.timeIntervalSince1970, messageID])
            try AuditChain.append(
                AuditEvent(
                    kind: .receive, actor: context.actor, onBehalfOf: context.onBehalfOf,
                    clientReference: row["client_ref"], messageID: messageID, accessPoint: context.accessPoint,
                    outcome: state.rawValue + (reason.map { ": \($0)" } ?? "")), at: now, in: db)
            guard
                let updated = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM inbox WHERE message_id = ?"), arguments: [messageID])
            else {
                throw StoreError("inbound message vanished")
            }
            return try Self.inboundRecord(updated)
        }
    }

    public func inbound(state: InboundState?, limit: Int) throws -> [InboundRecord] {
        try read { db in
            if let state {
                return try Row.fetchAll(
                    db, sql: "SELECT * FROM inbox WHERE state = ? ORDER BY received_at DESC LIMIT ?",
                    arguments: [state.rawValue, limit]
                ).map(Self.inboundRecord)
            }
            return try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM inbox ORDER BY received_at DESC LIMIT ?"), arguments: [limit])
                .map(
                    Self.inboundRecord)
        }
    }

    // MARK: Audit

    public func auditEntries(limit: Int) throws -> [AuditEntry] {
        try read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM audit ORDER BY sequence DESC LIMIT ?"), arguments: [limit]).compactMap(
                AuditChain.entry)
        }
    }

    public func verifyAudit() throws -> String? {
        try read { db in try AuditChain.verify(in: db, key: chainKey) }
    }

    public func auditHead() throws -> (sequence: Int64, hash: String) {
        try read { db in
            guard let head = try Row.fetchOne(db.cachedStatement(sql: "SELECT count, last_hash FROM audit_head WHERE id = 1")) else {
                throw StoreError("the audit head is missing")
            }
            return (head["count"], head["last_hash"])
        }
    }

    public func auditHash(at sequence: Int64) throws -> String? {
        if sequence == 0 { return AuditChain.genesis }
        return try read { db in
            let anchor = try AuditChain.anchor(in: db)
            if sequence == anchor.sequence { return anchor.hash }
            if sequence < anchor.sequence { return nil }
            return try String.fetchOne(db.cachedStatement(sql: "SELECT hash FROM audit WHERE sequence = ?"), arguments: [sequence])
        }
    }

    public func auditAnchor() throws -> AuditAnchor {
        try read { db in try AuditChain.anchor(in: db) }
    }

    public func trimAudit(through sequence: Int64, hash: String, now: Date, context: AuditContext) throws -> Int {
        try write { db in
            let anchor = try AuditChain.anchor(in: db)
            guard sequence > anchor.sequence else { return }
            let stored = try String.fetchOne(db, sql: "SELECT hash FROM audit WHERE sequence = ?", arguments: [sequence])
            guard stored == hash else { throw AuditRetention.mismatch(sequence) }
            try db.execute(sql: "UPDATE audit_anchor SET sequence = ?, hash = ? WHERE id = 1", arguments: [sequence, hash])
            try AuditChain.append(AuditRetention.event(through: sequence, context), at: now, in: db)
        }
        return try Batched.run(size: AuditRetention.batch, insideUnitOfWork: OpenTransaction.current != nil) {
            try write { db in
                try db.execute(
                    sql: """
                        DELETE FROM audit WHERE sequence IN (
                            SELECT sequence FROM audit WHERE sequence <= (SELECT sequence FROM audit_anchor WHERE id = 1)
                            ORDER BY sequence LIMIT ?)
                        """, arguments: [AuditRetention.batch])
                return db.changesCount
            }
        }
    }
}
