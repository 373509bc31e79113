import Foundation
import KoerierModel
import PostgresNIO

/// The audit log's reads on PostgreSQL; entries are written by `PostgresTransaction` and
/// chained by `AuditSealer`.
extension PostgresMessageStore {
    func recordAudit(_ event: AuditEvent, now: Date) throws {
        try write { $0.audit(event, at: now) }
    }

    static func entry(_ row: PostgresRow) throws -> AuditEntry? {
        let cells = row.makeRandomAccess()
        guard let kind = AuditEvent.Kind(rawValue: try cells["kind"].decode(String.self)) else { return nil }
        return AuditEntry(
            sequence: try cells["sequence"].decode(Int64.self), at: Date(timeIntervalSince1970: try cells["at"].decode(Double.self)),
            event: AuditEvent(
                kind: kind, actor: try cells["actor"].decode(String.self), onBehalfOf: try cells["on_behalf_of"].decode(String?.self),
                clientReference: try cells["client_ref"].decode(String?.self), messageID: try cells["message_id"].decode(String?.self),
                accessPoint: try cells["access_point"].decode(String.self), outcome: try cells["outcome"].decode(String.self)),
            previousHash: try cells["previous_hash"].decode(String.self), hash: try cells["hash"].decode(String.self))
    }

    func auditEntries(limit: Int) throws -> [AuditEntry] {
        if PostgresTransaction.current == nil { try sealPendingAudit() }
        return try read { try $0.run("SELECT * FROM audit ORDER BY sequence DESC LIMIT \(limit)").rows.compactMap(Self.entry) }
    }

    /// Chains everything committed so far: what readers of the chain see is complete.
    func sealPendingAudit() throws {
        try client.withBlockingConnection(timeout: connectionTimeout) { connection in
            try AuditSealer.sealAll(on: connection, key: auditChainKey, answerTimeout: answerTimeout)
        }
    }

    /// The head after sealing what is pending: a checkpoint pins every committed entry.
    func auditHead() throws -> (sequence: Int64, hash: String) {
        if PostgresTransaction.current == nil { try sealPendingAudit() }
        return try read { transaction in
            guard let head = try transaction.run("SELECT count, last_hash FROM audit_head WHERE id = 1").rows.first else {
                throw StoreError("the audit head is missing")
            }
            let (count, hash) = try head.decode((Int64, String).self)
            return (count, hash)
        }
    }

    func auditHash(at sequence: Int64) throws -> String? {
        if sequence == 0 { return AuditChain.genesis }
        if PostgresTransaction.current == nil { try sealPendingAudit() }
        return try read { transaction in
            let anchor = try Self.anchor(transaction)
            if sequence == anchor.sequence { return anchor.hash }
            if sequence < anchor.sequence { return nil }
            return try transaction.run("SELECT hash FROM audit WHERE sequence = \(sequence)").rows.first?.decode(String.self)
        }
    }

    func auditAnchor() throws -> AuditAnchor {
        try read(Self.anchor)
    }

    static func anchor(_ transaction: PostgresTransaction) throws -> AuditAnchor {
        guard let row = try transaction.run("SELECT sequence, hash FROM audit_anchor WHERE id = 1").rows.first else {
            throw StoreError("the audit anchor is missing")
        }
        let (sequence, hash) = try row.decode((Int64, String).self)
        return AuditAnchor(sequence: sequence, hash: hash)
    }

    func trimAudit(through sequence: Int64, hash: String, now: Date, context: AuditContext) throws -> Int {
        try sealPendingAudit()
        try write { transaction in
            // The anchor row stays locked until the commit: two trims at once take turns.
            guard let row = try transaction.run("SELECT sequence FROM audit_anchor WHERE id = 1 FOR UPDATE").rows.first else {
                throw StoreError("the audit anchor is missing")
            }
            guard sequence > (try row.decode(Int64.self)) else { return }
            let stored = try transaction.run("SELECT hash FROM audit WHERE sequence = \(sequence)").rows.first?.decode(String.self)
            guard stored == hash else { throw AuditRetention.mismatch(sequence) }
            try transaction.run("UPDATE audit_anchor SET sequence = \(sequence), hash = \(hash) WHERE id = 1")
            transaction.audit(AuditRetention.event(through: sequence, context), at: now)
        }
        return try Batched.run(size: AuditRetention.batch, insideUnitOfWork: PostgresTransaction.current != nil) {
            try write { transaction in
                try transaction.changes(
                    """
                    DELETE FROM audit WHERE sequence IN (
                        SELECT sequence FROM audit WHERE sequence <= (SELECT sequence FROM audit_anchor WHERE id = 1)
                        ORDER BY sequence LIMIT \(AuditRetention.batch))
                    """)
            }
        }
    }

    /// Walks the whole chain in one repeatable-read snapshot (the head and the entries of one
    /// moment, while other daemons go on appending), a page of entries at a time.
    func verifyAudit() throws -> String? {
        try sealPendingAudit()
        return try client.withBlockingConnection(timeout: connectionTimeout) { connection in
            let transaction = PostgresTransaction(connection: connection, answerTimeout: answerTimeout)
            try transaction.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            defer { _ = try? transaction.run("ROLLBACK") }
            guard let head = try transaction.run("SELECT count, last_hash FROM audit_head WHERE id = 1").rows.first else {
                return "the audit head is missing"
            }
            let (count, lastHash) = try head.decode((Int64, String).self)
            let anchor = try Self.anchor(transaction)
            var verifier = AuditChainVerifier(key: auditChainKey, anchor: anchor)
            let page: Int64 = 10_000
            var after = anchor.sequence
            while true {
                let rows = try transaction.run(
                    "SELECT * FROM audit WHERE sequence > \(after) ORDER BY sequence LIMIT \(page)"
                ).rows
                for row in rows {
                    let sequence = try row.makeRandomAccess()["sequence"].decode(Int64.self)
                    if let problem = verifier.check(sequence: sequence, entry: try Self.entry(row)) { return problem }
                    after = sequence
                }
                if rows.count < page { break }
            }
            return verifier.finish(headCount: count, headHash: lastHash)
        }
    }
}
