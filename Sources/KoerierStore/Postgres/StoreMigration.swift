import Foundation
import GRDB
import PostgresNIO

/// Moves an embedded store (SQLite) with its whole audit history into an empty PostgreSQL
/// store, row for row: the same record ids, the same sealed payloads, the same chain.
///
/// Nothing is re-sealed or re-chained, so the target must hold the source's keys: every
/// payload is opened with the target's key ring and the source's chain is verified with the
/// target's audit key before a row is written. The copy is one PostgreSQL transaction,
/// read from one SQLite snapshot under the store's daemon lock: the target ends up with all
/// of it or none of it, and no daemon adds letters to the source meanwhile. Afterwards the
/// target's chain is verified and its head compared with the source's.
public enum StoreMigration {
    public struct Progress: Sendable {
        public let table: String
        public let copied: Int
        public let total: Int
    }

    public struct Summary: Sendable {
        /// Rows copied per table, in copy order.
        public let rows: [(table: String, count: Int)]
        public let auditSequence: Int64
        public let auditHash: String
    }

    public static func copy(
        sqlitePath: String, keys: PayloadKeyRing, auditKey: AuditKey?, to target: any MessageStore,
        progress: (Progress) -> Void
    ) throws -> Summary {
        guard let target = target as? PostgresMessageStore else {
            throw StoreError("the target configuration's store is not PostgreSQL (store.backend: postgres)")
        }
        guard FileManager.default.fileExists(atPath: sqlitePath) else { throw StoreError("\(sqlitePath): no store here") }
        let lock = try DaemonLock.claim(storePath: sqlitePath, role: "store migrate")
        defer { withExtendedLifetime(lock) {} }
        let source = try SQLiteMessageStore(path: sqlitePath, keys: keys, auditKey: auditKey, minimumFreeBytes: 0)
        if let problem = try source.verifyAudit() {
            throw StoreError("the source's audit chain does not verify (\(problem)); nothing was copied")
        }
        try refuseUnlessEmpty(target)
        let summary = try source.read { db in
            if let problem = try AuditChain.verify(in: db, key: target.auditChainKey) {
                throw StoreError(
                    "the target's audit key does not verify the source's chain (\(problem)): "
                        + "give the target configuration the source's audit key file; nothing was copied")
            }
            let totals = try copiedTables.map { ($0, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \($0.name)") ?? 0) }
            let total = totals.map(\.1).reduce(0, +)
            return try target.write { transaction in
                // The chain's lock for the whole copy, and emptiness checked again under it: a
                // daemon already started on the target can neither seal nor add entries meanwhile.
                try transaction.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.auditChainLock))")
                try refuseUnlessEmpty(transaction)
                var copied = 0
                var counts: [(table: String, count: Int)] = []
                for (table, count) in totals {
                    try copy(table, from: db, into: transaction, target: target) { rows in
                        copied += rows
                        progress(Progress(table: table.name, copied: copied, total: total))
                    }
                    counts.append((table.name, count))
                }
                let head = try Row.fetchOne(db, sql: "SELECT count, last_hash FROM audit_head WHERE id = 1")
                let sequence: Int64 = head?["count"] ?? 0
                let hash: String = head?["last_hash"] ?? AuditChain.genesis
                try transaction.run("UPDATE audit_head SET count = \(sequence), last_hash = \(hash) WHERE id = 1")
                // A source whose old entries left by retention starts after the same entry.
                let anchor = try AuditChain.anchor(in: db)
                try transaction.run("UPDATE audit_anchor SET sequence = \(anchor.sequence), hash = \(anchor.hash) WHERE id = 1")
                // The identities continue after the copied ids.
                for table in ["outbox", "trajectory"] {
                    try transaction.run(
                        PostgresQuery(
                            unsafeSQL: """
                                SELECT setval(pg_get_serial_sequence('\(table)', 'id'), COALESCE((SELECT MAX(id) FROM \(table)), 0) + 1, false)
                                """))
                }
                return Summary(rows: counts, auditSequence: sequence, auditHash: hash)
            }
        }
        if let problem = try target.verifyAudit() {
            throw StoreError(
                "the copied audit chain does not verify on the target (\(problem)); the copy was committed: "
                    + "drop that database before migrating again")
        }
        let head = try target.auditHead()
        guard head.sequence == summary.auditSequence, head.hash == summary.auditHash else {
            throw StoreError(
                "the target's audit head (entry \(head.sequence)) is not the source's (entry \(summary.auditSequence))")
        }
        return summary
    }

    private static func refuseUnlessEmpty(_ target: PostgresMessageStore) throws {
        try target.read(refuseUnlessEmpty)
    }

    private static func refuseUnlessEmpty(_ transaction: PostgresTransaction) throws {
        let present =
            try transaction.run(
                """
                SELECT (SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM inbox) + (SELECT COUNT(*) FROM trajectory)
                     + (SELECT COUNT(*) FROM audit) + (SELECT COUNT(*) FROM audit_pending)
                """
            ).rows.first?.decode(Int64.self) ?? 0
        guard present == 0 else {
            throw StoreError("the target store is not empty (\(present) rows): migrate into a new database; nothing was copied")
        }
    }

    private static let batchRows = 200

    /// Copies one table in batches of multi-row INSERTs, checking sealed payloads on the way.
    private static func copy(
        _ table: CopiedTable, from db: Database, into transaction: PostgresTransaction, target: PostgresMessageStore,
        copied: (Int) -> Void
    ) throws {
        let names = table.columns.map(\.name).joined(separator: ", ")
        let rows = try Row.fetchCursor(db, sql: "SELECT \(names) FROM \(table.name) ORDER BY \(table.order)")
        var bindings = PostgresBindings()
        var placeholders: [String] = []
        func flush() throws {
            guard !placeholders.isEmpty else { return }
            try transaction.run(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO \(table.name) (\(names)) \(table.hasIdentity ? "OVERRIDING SYSTEM VALUE " : "")VALUES \
                        \(placeholders.joined(separator: ", "))
                        """, binds: bindings))
            copied(placeholders.count)
            bindings = PostgresBindings()
            placeholders.removeAll(keepingCapacity: true)
        }
        while let row = try rows.next() {
            if let sealedIn = table.sealedPayloads {
                let messageID: String = row["message_id"]
                do {
                    _ = try target.openPayload(row["payload"], keyID: row["key_id"], boundTo: messageID, in: sealedIn)
                } catch {
                    throw StoreError(
                        "\(table.name) message \(messageID): its payload does not open with the target's payload keys "
                            + "(key \(row["key_id"] as String)): give the target configuration the source's payload key file; nothing was copied"
                    )
                }
            }
            placeholders.append(bindings.nextRow(of: table.columns.count))
            for column in table.columns { try column.kind.append(row[column.name] as DatabaseValue, to: &bindings) }
            if placeholders.count == batchRows { try flush() }
        }
        try flush()
    }

    /// The tables that move, parents before children. SQLite's `outbox_counts` (PostgreSQL
    /// counts by index) and v4's `consent` (replaced by `trajectory_consent`, no longer read)
    /// stay behind.
    static let copiedTables: [CopiedTable] = [
        CopiedTable(
            name: "outbox", order: "id", hasIdentity: true, sealedPayloads: .outbox,
            columns: [
                ("id", .int64), ("message_id", .text), ("recipient_id", .text), ("kind", .text), ("recipient_type", .text),
                ("transaction_id", .text), ("urgency", .int32), ("state", .text), ("attempts", .int32), ("next_attempt_at", .real),
                ("lease_owner", .text), ("lease_expires_at", .real), ("lease_token", .text), ("last_error", .text),
                ("receipt_id", .text), ("client_ref", .text), ("created_at", .real), ("updated_at", .real), ("key_id", .text),
                ("payload", .blob), ("prepared", .bool), ("sent_message_id", .text), ("sent_digest", .text),
            ].map(CopiedColumn.init)),
        CopiedTable(
            name: "inbox", order: "message_id", hasIdentity: false, sealedPayloads: .inbox,
            columns: [
                ("message_id", .text), ("kind", .text), ("sender", .text), ("state", .text), ("reason", .text), ("client_ref", .text),
                ("received_at", .real), ("updated_at", .real), ("key_id", .text), ("payload", .blob),
            ].map(CopiedColumn.init)),
        CopiedTable(
            name: "issued_receipt", order: "message_id", hasIdentity: false, sealedPayloads: nil,
            columns: [("message_id", .text), ("receipt", .blob), ("issued_at", .real)].map(CopiedColumn.init)),
        CopiedTable(
            name: "trajectory", order: "id", hasIdentity: true, sealedPayloads: nil,
            columns: [
                ("id", .int64), ("referral_message_id", .text), ("transaction_id", .text), ("client_ref", .text),
                ("referrer_recipient_id", .text), ("current_phase", .text), ("opened_at", .real), ("updated_at", .real),
                ("closed_at", .real), ("closed_reason", .text),
            ].map(CopiedColumn.init)),
        CopiedTable(
            name: "phase_letter", order: "trajectory_id, phase, amendment", hasIdentity: false, sealedPayloads: nil,
            columns: [("trajectory_id", .int64), ("phase", .text), ("amendment", .int32), ("message_id", .text), ("created_at", .real)]
                .map(CopiedColumn.init)),
        CopiedTable(
            name: "trajectory_consent", order: "trajectory_id, version", hasIdentity: false, sealedPayloads: nil,
            columns: [
                ("trajectory_id", .int64), ("version", .int32), ("parties", .text), ("recorded_on", .text), ("source", .text),
                ("recorded_at", .real),
            ].map(CopiedColumn.init)),
        CopiedTable(
            name: "audit", order: "sequence", hasIdentity: false, sealedPayloads: nil,
            columns: [
                ("sequence", .int64), ("at", .real), ("kind", .text), ("actor", .text), ("on_behalf_of", .text), ("client_ref", .text),
                ("message_id", .text), ("access_point", .text), ("outcome", .text), ("previous_hash", .text), ("hash", .text),
            ].map(CopiedColumn.init)),
    ]
}

struct CopiedTable {
    let name: String
    let order: String
    /// `GENERATED ALWAYS AS IDENTITY` on the PostgreSQL side: the ids are copied as they are.
    let hasIdentity: Bool
    /// The payload table whose seal binds this table's payloads, if it has any.
    let sealedPayloads: PayloadTable?
    let columns: [CopiedColumn]
}

struct CopiedColumn {
    let name: String
    let kind: Kind

    init(_ pair: (String, Kind)) {
        name = pair.0
        kind = pair.1
    }

    /// The PostgreSQL type a value is bound as (SQLite's own typing is looser).
    enum Kind {
        case text, int32, int64, real, bool, blob

        func append(_ value: DatabaseValue, to bindings: inout PostgresBindings) throws {
            guard !value.isNull else { return bindings.appendNull() }
            switch self {
            case .text: bindings.append(String.fromDatabaseValue(value))
            case .int32: bindings.append(Int32.fromDatabaseValue(value))
            case .int64: bindings.append(Int64.fromDatabaseValue(value))
            case .real: bindings.append(Double.fromDatabaseValue(value))
            case .bool: bindings.append(Bool.fromDatabaseValue(value))
            case .blob: try bindings.append(Data.fromDatabaseValue(value))
            }
        }
    }
}
