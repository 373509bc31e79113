import Foundation
import GRDB
import KoerierModel

/// The embedded store: one SQLite file in WAL mode with synchronous=FULL, so an enqueue
/// that returned survives a crash or power loss. Payloads are encrypted (AES-256-GCM);
/// the metadata stays in plain columns for queries.
public final class SQLiteMessageStore: MessageStore {
    private let database: DatabasePool
    private let keys: PayloadKeyRing

    public init(path: String, keys: PayloadKeyRing) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.busyMode = .timeout(10)
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            database = try DatabasePool(path: path, configuration: configuration)
            try SQLiteMessageStore.migrator.migrate(database)
        } catch {
            throw StoreError("\(path): cannot open the store: \(error)")
        }
        self.keys = keys
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: outbox") { db in
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
                table.column("created_at", .double).notNull()
                table.column("updated_at", .double).notNull()
                table.column("key_id", .text).notNull()
                table.column("payload", .blob).notNull()
                table.uniqueKey(["message_id", "recipient_id"])
            }
            try db.create(index: "outbox_due", on: "outbox", columns: ["state", "urgency", "next_attempt_at"])
        }
        return migrator
    }

    private static let columns = """
        id, message_id, recipient_id, kind, recipient_type, transaction_id, urgency, state, attempts, next_attempt_at,
        lease_owner, lease_expires_at, last_error, receipt_id, created_at, updated_at, key_id
        """

    private static func urgencyRank(_ urgency: Urgency) -> Int {
        switch urgency {
        case .routine: return 0
        case .soon: return 1
        case .urgent: return 2
        }
    }

    private static func record(_ row: Row) throws -> OutboundRecord {
        let rank: Int = row["urgency"]
        let stateName: String = row["state"]
        guard let state = DeliveryState(rawValue: stateName) else { throw StoreError("record \(row["id"] as Int64) has unknown state \(stateName)") }
        return OutboundRecord(
            id: row["id"], messageID: row["message_id"], kind: row["kind"], recipientID: row["recipient_id"],
            recipientType: row["recipient_type"], transactionID: row["transaction_id"],
            urgency: rank >= 2 ? .urgent : rank == 1 ? .soon : .routine, state: state, attempts: row["attempts"],
            nextAttemptAt: Date(timeIntervalSince1970: row["next_attempt_at"]), leaseOwner: row["lease_owner"],
            leaseExpiresAt: (row["lease_expires_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            lastError: row["last_error"], receiptID: row["receipt_id"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]), updatedAt: Date(timeIntervalSince1970: row["updated_at"]),
            keyID: row["key_id"])
    }

    private static func fetch(_ db: Database, id: Int64) throws -> OutboundRecord? {
        try Row.fetchOne(db, sql: "SELECT \(columns) FROM outbox WHERE id = ?", arguments: [id]).map(record)
    }

    public func enqueue(_ message: OutboundMessage, now: Date) throws -> EnqueueOutcome {
        let (keyID, sealed) = try keys.seal(message.payload, boundTo: message.messageID.value)
        return try database.write { db in
            if let existing = try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM outbox WHERE message_id = ? AND recipient_id = ?",
                                               arguments: [message.messageID.value, message.recipientID]) {
                return .duplicate(try Self.record(existing))
            }
            let time = now.timeIntervalSince1970
            try db.execute(sql: """
                INSERT INTO outbox (message_id, recipient_id, kind, recipient_type, transaction_id, urgency, state, attempts,
                                    next_attempt_at, created_at, updated_at, key_id, payload)
                VALUES (?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?)
                """, arguments: [message.messageID.value, message.recipientID, message.kind.rawValue, message.recipientType.rawValue,
                                 message.transactionID.value, Self.urgencyRank(message.urgency), time, time, time, keyID, sealed])
            guard let stored = try Self.fetch(db, id: db.lastInsertedRowID) else { throw StoreError("enqueued record vanished") }
            return .stored(stored)
        }
    }

    public func leaseDue(owner: String, now: Date, duration: TimeInterval, limit: Int) throws -> [OutboundRecord] {
        let time = now.timeIntervalSince1970
        return try database.write { db in
            // Crash recovery: a lease nobody renewed returns its record to the queue.
            try db.execute(sql: """
                UPDATE outbox SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
                WHERE state = 'sending' AND lease_expires_at < ?
                """, arguments: [time, time])
            let ids = try Int64.fetchAll(db, sql: """
                SELECT id FROM outbox WHERE state IN ('queued', 'retrying') AND next_attempt_at <= ?
                ORDER BY urgency DESC, next_attempt_at, id LIMIT ?
                """, arguments: [time, limit])
            var leased: [OutboundRecord] = []
            for id in ids {
                try db.execute(sql: """
                    UPDATE outbox SET state = 'sending', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1, updated_at = ?
                    WHERE id = ?
                    """, arguments: [owner, time + duration, time, id])
                if let record = try Self.fetch(db, id: id) { leased.append(record) }
            }
            return leased
        }
    }

    public func transition(_ id: Int64, _ transition: Transition, now: Date) throws -> OutboundRecord {
        try database.write { db in
            guard let current = try Self.fetch(db, id: id) else { throw StoreError("no record \(id)") }
            guard current.state.successors.contains(transition.to) else {
                throw StoreError("record \(id) is \(current.state.rawValue); it cannot become \(transition.to.rawValue)")
            }
            let time = now.timeIntervalSince1970
            let keepsLease = transition.to == .sending
            try db.execute(sql: """
                UPDATE outbox SET state = ?, last_error = COALESCE(?, last_error), next_attempt_at = COALESCE(?, next_attempt_at),
                    receipt_id = COALESCE(?, receipt_id), lease_owner = CASE WHEN ? THEN lease_owner END,
                    lease_expires_at = CASE WHEN ? THEN lease_expires_at END, updated_at = ?
                WHERE id = ?
                """, arguments: [transition.to.rawValue, transition.error, transition.nextAttemptAt?.timeIntervalSince1970,
                                 transition.receiptID, keepsLease, keepsLease, time, id])
            guard let updated = try Self.fetch(db, id: id) else { throw StoreError("record \(id) vanished") }
            return updated
        }
    }

    public func record(_ id: Int64) throws -> OutboundRecord? {
        try database.read { db in try Self.fetch(db, id: id) }
    }

    public func payload(of id: Int64) throws -> Data {
        let row = try database.read { db in
            try Row.fetchOne(db, sql: "SELECT message_id, key_id, payload FROM outbox WHERE id = ?", arguments: [id])
        }
        guard let row else { throw StoreError("no record \(id)") }
        return try keys.open(row["payload"], keyID: row["key_id"], boundTo: row["message_id"])
    }

    public func records(state: DeliveryState?, recipientType: String?, limit: Int) throws -> [OutboundRecord] {
        try database.read { db in
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
            arguments.append(limit)
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(db, sql: "SELECT \(Self.columns) FROM outbox \(filter) ORDER BY id DESC LIMIT ?",
                                    arguments: StatementArguments(arguments)).map(Self.record)
        }
    }

    public func countsByState() throws -> [DeliveryState: Int] {
        try database.read { db in
            var counts: [DeliveryState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM outbox GROUP BY state") {
                if let state = DeliveryState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }
}
