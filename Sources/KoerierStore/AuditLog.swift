import Crypto
import Foundation
import GRDB

/// One NEN 7513 event on patient data.
public struct AuditEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case enqueue, send, deliver, acknowledge, receive, read, export, retry, cancel, block, dead, purge
        /// A phase letter recorded for a trajectory; a receipt this gateway signed and kept.
        case phase, receipt
        /// A new version of a trajectory's consent.
        case consent
        /// Entries up to a signed checkpoint removed (retention); the log starts after them.
        case trim
    }

    public var kind: Kind
    /// Who acted: a service name, an OS user, or a remote certificate subject.
    public var actor: String
    public var onBehalfOf: String?
    /// A keyed hash of the client's BSN (`AuditLog.clientReference`), never the BSN.
    public var clientReference: String?
    public var messageID: String?
    /// Where from: a host, a CLI on a machine, a listener address.
    public var accessPoint: String
    public var outcome: String

    public init(
        kind: Kind, actor: String, onBehalfOf: String? = nil, clientReference: String? = nil, messageID: String? = nil,
        accessPoint: String, outcome: String = "ok"
    ) {
        self.kind = kind
        self.actor = actor
        self.onBehalfOf = onBehalfOf
        self.clientReference = clientReference
        self.messageID = messageID
        self.accessPoint = accessPoint
        self.outcome = outcome
    }
}

public struct AuditEntry: Sendable, Equatable {
    public let sequence: Int64
    public let at: Date
    public let event: AuditEvent
    public let previousHash: String
    public let hash: String
}

/// Append-only audit log in the store's database. Each entry carries an HMAC, under a key
/// kept outside the database (`AuditKey`), of the entry before it and its own fields, and a
/// head row keeps the count and the last hash, so `verify` finds an edited, removed,
/// inserted or reordered entry, including a removed last one, even when whoever edited the
/// database recomputed the chain: without the key they cannot. Checkpoints (`audit
/// checkpoint`), signed and kept outside the store, pin the head against a key thief.
enum AuditChain {
    static let genesis = String(repeating: "0", count: 64)

    static func migrate(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2: audit") { db in
            try db.create(table: "audit") { table in
                table.autoIncrementedPrimaryKey("sequence")
                table.column("at", .double).notNull()
                table.column("kind", .text).notNull()
                table.column("actor", .text).notNull()
                table.column("on_behalf_of", .text)
                table.column("client_ref", .text)
                table.column("message_id", .text)
                table.column("access_point", .text).notNull()
                table.column("outcome", .text).notNull()
                table.column("previous_hash", .text).notNull()
                table.column("hash", .text).notNull()
            }
            try db.create(table: "audit_head") { table in
                table.column("id", .integer).primaryKey()
                table.column("count", .integer).notNull()
                table.column("last_hash", .text).notNull()
            }
            try db.cachedStatement(sql: "INSERT INTO audit_head (id, count, last_hash) VALUES (1, 0, ?)").execute(arguments: [genesis])
            // Append-only at the database level too: updates and deletes of entries fail.
            try db.execute(
                sql: "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
            try db.execute(
                sql: "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
        }
    }

    /// The SQL function each connection of the store has (`SQLiteMessageStore` registers it
    /// with the audit key): the key stays in the process, never in the database.
    static let macFunction = "koerier_audit_mac"

    static func register(_ key: AuditKey, on db: Database) {
        db.add(
            function: DatabaseFunction(macFunction, argumentCount: 1, pure: true) { values in
                String.fromDatabaseValue(values[0]).map(key.mac)
            })
    }

    /// HMAC-SHA256 (under the audit key) of the previous entry's hash and this entry's fields.
    static func hash(previous: String, sequence: Int64, at: Double, event: AuditEvent, in db: Database) throws -> String {
        guard
            let mac = try String.fetchOne(
                db.cachedStatement(sql: "SELECT \(macFunction)(?)"),
                arguments: [macInput(previous: previous, sequence: sequence, at: at, event: event)])
        else { throw StoreError("the audit chain's key is not loaded") }
        return mac
    }

    /// What the HMAC covers, the same on every backend (so a chain moves between them intact).
    static func macInput(previous: String, sequence: Int64, at: Double, event: AuditEvent) -> String {
        [
            previous, String(sequence), String(at), event.kind.rawValue, event.actor, event.onBehalfOf ?? "",
            event.clientReference ?? "", event.messageID ?? "", event.accessPoint, event.outcome,
        ].joined(separator: "\u{1F}")
    }

    /// Appends inside the caller's transaction, so the event and the change it records
    /// commit together or not at all.
    static func append(_ event: AuditEvent, at date: Date, in db: Database) throws {
        var writer = try Writer(db)
        try writer.append(event, at: date)
        try writer.finish()
    }

    /// Appends several entries in one transaction, reading and writing the head row once.
    struct Writer {
        private let db: Database
        private var count: Int64
        private var previous: String

        init(_ db: Database) throws {
            guard let head = try Row.fetchOne(db.cachedStatement(sql: "SELECT count, last_hash FROM audit_head WHERE id = 1")) else {
                throw StoreError("the audit head is missing")
            }
            self.db = db
            count = head["count"]
            previous = head["last_hash"]
        }

        mutating func append(_ event: AuditEvent, at date: Date) throws {
            let sequence = count + 1
            let at = date.timeIntervalSince1970
            let hash = try AuditChain.hash(previous: previous, sequence: sequence, at: at, event: event, in: db)
            try db.cachedStatement(
                sql: """
                    INSERT INTO audit (sequence, at, kind, actor, on_behalf_of, client_ref, message_id, access_point, outcome, previous_hash, hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                sequence, at, event.kind.rawValue, event.actor, event.onBehalfOf, event.clientReference, event.messageID,
                event.accessPoint, event.outcome, previous, hash,
            ])
            count = sequence
            previous = hash
        }

        /// Writes the head; must run before the transaction commits.
        func finish() throws {
            try db.cachedStatement(sql: "UPDATE audit_head SET count = ?, last_hash = ? WHERE id = 1").execute(arguments: [count, previous])
        }
    }

    static func entry(_ row: Row) -> AuditEntry? {
        guard let kind = AuditEvent.Kind(rawValue: row["kind"]) else { return nil }
        return AuditEntry(
            sequence: row["sequence"], at: Date(timeIntervalSince1970: row["at"]),
            event: AuditEvent(
                kind: kind, actor: row["actor"], onBehalfOf: row["on_behalf_of"],
                clientReference: row["client_ref"], messageID: row["message_id"],
                accessPoint: row["access_point"], outcome: row["outcome"]),
            previousHash: row["previous_hash"], hash: row["hash"])
    }

    /// The first break in the chain, or nil when it is whole.
    static func verify(in db: Database, key: AuditKey) throws -> String? {
        let anchor = try self.anchor(in: db)
        var verifier = AuditChainVerifier(key: key, anchor: anchor)
        let rows = try Row.fetchCursor(db, sql: "SELECT * FROM audit WHERE sequence > ? ORDER BY sequence", arguments: [anchor.sequence])
        while let row = try rows.next() {
            if let problem = verifier.check(sequence: row["sequence"], entry: entry(row)) { return problem }
        }
        guard let head = try Row.fetchOne(db.cachedStatement(sql: "SELECT count, last_hash FROM audit_head WHERE id = 1")) else {
            return "the audit head is missing"
        }
        return verifier.finish(headCount: head["count"], headHash: head["last_hash"])
    }
}

/// The entry an audit log starts after: the genesis before any retention, else the last
/// entry removed, whose hash the next entry still names.
public struct AuditAnchor: Sendable, Equatable {
    public let sequence: Int64
    public let hash: String

    public init(sequence: Int64, hash: String) {
        self.sequence = sequence
        self.hash = hash
    }

    public static let genesis = AuditAnchor(sequence: 0, hash: AuditChain.genesis)
}

extension AuditChain {
    /// Retention: entries up to the anchor may be deleted, no others; the anchor only moves on.
    static func migrateRetention(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v12: audit retention") { db in
            try db.execute(
                sql: """
                    CREATE TABLE audit_anchor (id INTEGER PRIMARY KEY CHECK (id = 1), sequence INTEGER NOT NULL, hash TEXT NOT NULL);
                    INSERT INTO audit_anchor VALUES (1, 0, '\(genesis)');
                    CREATE TRIGGER audit_anchor_forward BEFORE UPDATE ON audit_anchor
                        WHEN NEW.sequence < OLD.sequence OR (NEW.sequence = OLD.sequence AND NEW.hash <> OLD.hash)
                        BEGIN SELECT RAISE(ABORT, 'the audit anchor only moves forward'); END;
                    CREATE TRIGGER audit_anchor_kept BEFORE DELETE ON audit_anchor
                        BEGIN SELECT RAISE(ABORT, 'the audit anchor stays'); END;
                    DROP TRIGGER audit_no_delete;
                    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
                        WHEN OLD.sequence > COALESCE((SELECT sequence FROM audit_anchor WHERE id = 1), 0)
                        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    """)
        }
    }

    static func anchor(in db: Database) throws -> AuditAnchor {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT sequence, hash FROM audit_anchor WHERE id = 1")) else {
            throw StoreError("the audit anchor is missing")
        }
        return AuditAnchor(sequence: row["sequence"], hash: row["hash"])
    }
}

/// Checks a chain entry by entry, in order, and then its head: the rules `audit verify`
/// applies on every backend.
struct AuditChainVerifier {
    let key: AuditKey
    private var expectedSequence: Int64
    private var previous: String
    /// A log that starts after an anchor must hold, under the HMAC, the trim entry that
    /// moved it there: whoever cuts the log without the chain's key cannot write one.
    private let anchor: AuditAnchor
    private var anchorRecorded: Bool

    /// `anchor`: the entry the log starts after (retention removed those before it).
    init(key: AuditKey, anchor: AuditAnchor = .genesis) {
        self.key = key
        self.anchor = anchor
        expectedSequence = anchor.sequence + 1
        previous = anchor.hash
        anchorRecorded = anchor.sequence == 0
    }

    /// The entry at `sequence` (nil: its kind is unknown); the first break found, or nil.
    mutating func check(sequence: Int64, entry: AuditEntry?) -> String? {
        guard sequence == expectedSequence else {
            return "entry \(expectedSequence) is missing (the next entry is \(sequence)): entries were removed"
        }
        guard let entry else { return "entry \(sequence) has an unknown event kind" }
        guard entry.previousHash == previous else {
            return "entry \(sequence) does not follow entry \(sequence - 1): entries were removed, inserted or reordered"
        }
        let mac = key.mac(
            AuditChain.macInput(previous: previous, sequence: sequence, at: entry.at.timeIntervalSince1970, event: entry.event))
        guard mac == entry.hash else { return "entry \(sequence) was changed: its hash does not match its content" }
        if entry.event.kind == .trim, entry.event.outcome == AuditRetention.outcome(through: anchor.sequence) { anchorRecorded = true }
        previous = entry.hash
        expectedSequence += 1
        return nil
    }

    /// After the last entry: the head must name it, or the last entries were removed.
    func finish(headCount: Int64, headHash: String) -> String? {
        guard headCount == expectedSequence - 1, headHash == previous else {
            return "the log ends at entry \(expectedSequence - 1) but \(headCount) were written: the last entries were removed"
        }
        guard anchorRecorded else {
            return "the log starts after entry \(anchor.sequence), but no trim entry records that cut: entries were removed"
        }
        return nil
    }
}

/// Pseudonymous client references for the audit log: HMAC-SHA256 of the BSN under a key
/// derived from the payload key ring, so the log can link events of one client without
/// holding the BSN.
public struct ClientReferencer: Sendable {
    private let key: Data

    public init(keys: PayloadKeyRing) {
        key = keys.derivedKey(purpose: "koerier audit client reference v1")
    }

    /// From the audit key (its own file, never rotated with the payload keys).
    public init(auditKey: AuditKey) {
        key = auditKey.derived(purpose: "koerier audit client reference v2")
    }

    public func reference(bsn: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(bsn.utf8), using: SymmetricKey(data: key))
        return hex(code.prefix(16))
    }
}

/// Lower-case hex of bytes (digests, pseudonyms).
func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    // A table, not String(format:): this runs for every audit entry in the hot path.
    let digits = Array("0123456789abcdef".utf8)
    var characters: [UInt8] = []
    characters.reserveCapacity(64)
    for byte in bytes {
        characters.append(digits[Int(byte >> 4)])
        characters.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: characters, as: UTF8.self)
}

/// SHA-256 of stored bytes in hex, for audit outcomes that name what was kept.
enum ReceiptDigest {
    static func hex(_ data: Data) -> String { KoerierStore.hex(SHA256.hash(data: data)) }
}
