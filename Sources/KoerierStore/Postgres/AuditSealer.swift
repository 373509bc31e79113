import Foundation
import KoerierModel
import PostgresNIO

/// Chains committed audit entries. Every auditing transaction commits its entries to
/// `audit_pending` with its change, so changes on every daemon commit in parallel and share
/// the server's WAL flushes; nothing in them waits for the chain. Right after its commit a
/// writer tries to seal: if it gets the chain's lock (an advisory lock), it moves every
/// pending entry into the HMAC chain, oldest first, in one transaction, and seals again for
/// as long as entries are pending after it let go; if another daemon holds the lock, that
/// one will chain these entries (it looks again once it let go, and this commit came
/// before). One flush thus chains the entries of many changes. Readers of the chain (the
/// log, its head for checkpoints, verify) seal first and wait for the lock, so they see
/// every entry committed before they asked. Entries of a daemon that died between its
/// commit and its seal are chained by the next seal anywhere.
enum AuditSealer {
    /// Entries chained per statement: eleven parameters each (plus the head's two) must stay
    /// under the protocol's 65,535 a statement, or a backlog larger than one batch could
    /// never be chained again.
    static let batch = 5_000

    /// After a commit: chains what is pending unless another sealer is at it.
    static func sealIfFree(on connection: PostgresConnection, key: AuditKey, answerTimeout: TimeInterval) throws {
        let transaction = PostgresTransaction(connection: connection, answerTimeout: answerTimeout)
        while try sealOnce(transaction, key: key, wait: false) {
            // Entries committed while this seal held the lock may have been left to it.
            guard try transaction.run("SELECT EXISTS (SELECT 1 FROM audit_pending)").rows.first?.decode(Bool.self) == true else { return }
        }
    }

    /// Before a read of the chain: waits for the lock and chains everything pending.
    static func sealAll(on connection: PostgresConnection, key: AuditKey, answerTimeout: TimeInterval) throws {
        let transaction = PostgresTransaction(connection: connection, answerTimeout: answerTimeout)
        _ = try sealOnce(transaction, key: key, wait: true)
    }

    /// One seal in its own transaction; false when the lock was taken by another sealer.
    private static func sealOnce(_ transaction: PostgresTransaction, key: AuditKey, wait: Bool) throws -> Bool {
        try transaction.run("BEGIN")
        do {
            // An advisory lock writes nothing (a row lock would be a WAL record to flush).
            if wait {
                try transaction.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.auditChainLock))")
            } else if try transaction.run("SELECT pg_try_advisory_xact_lock(\(PostgresSchema.auditChainLock))").rows.first?.decode(
                Bool.self)
                != true
            {
                _ = try transaction.run("COMMIT")
                return false
            }
            while try sealBatch(transaction, key: key) == batch {}
            guard try transaction.run("COMMIT").metadata.command == "COMMIT" else {
                throw StoreError("the database rolled the audit seal back")
            }
            return true
        } catch {
            _ = try? transaction.run("ROLLBACK")
            throw error
        }
    }

    private static func sealBatch(_ transaction: PostgresTransaction, key: AuditKey) throws -> Int {
        // Read under the lock, in a statement of its own: its snapshot sees what the previous
        // holder committed.
        guard let head = try transaction.run("SELECT count, last_hash FROM audit_head WHERE id = 1").rows.first else {
            throw StoreError("the audit head is missing")
        }
        var (count, previous) = try head.decode((Int64, String).self)
        // This statement's snapshot starts after the lock: entries an earlier sealer took are gone.
        let pending = try transaction.run(
            """
            DELETE FROM audit_pending WHERE id IN (SELECT id FROM audit_pending ORDER BY id LIMIT \(batch))
            RETURNING id, at, kind, actor, on_behalf_of, client_ref, message_id, access_point, outcome
            """
        ).rows.map { row -> (Int64, Double, AuditEvent) in
            let cells = row.makeRandomAccess()
            let kindName = try cells["kind"].decode(String.self)
            guard let kind = AuditEvent.Kind(rawValue: kindName) else {
                throw StoreError("a pending audit entry has unknown kind \(kindName)")
            }
            return (
                try cells["id"].decode(Int64.self), try cells["at"].decode(Double.self),
                AuditEvent(
                    kind: kind, actor: try cells["actor"].decode(String.self), onBehalfOf: try cells["on_behalf_of"].decode(String?.self),
                    clientReference: try cells["client_ref"].decode(String?.self), messageID: try cells["message_id"].decode(String?.self),
                    accessPoint: try cells["access_point"].decode(String.self), outcome: try cells["outcome"].decode(String.self))
            )
        }.sorted { $0.0 < $1.0 }
        guard !pending.isEmpty else { return 0 }
        var bindings = PostgresBindings(capacity: pending.count * 11 + 2)
        var rows: [String] = []
        for (_, at, event) in pending {
            let sequence = count + 1
            let hash = key.mac(AuditChain.macInput(previous: previous, sequence: sequence, at: at, event: event))
            rows.append(bindings.nextRow(of: 11))
            bindings.append(sequence)
            bindings.append(at)
            bindings.appendFields(of: event)
            bindings.append(previous)
            bindings.append(hash)
            count = sequence
            previous = hash
        }
        bindings.append(count)
        bindings.append(previous)
        try transaction.run(
            PostgresQuery(
                unsafeSQL: """
                    WITH entries AS (
                        INSERT INTO audit (sequence, at, kind, actor, on_behalf_of, client_ref, message_id, access_point, outcome,
                                           previous_hash, hash) VALUES \(rows.joined(separator: ", ")))
                    UPDATE audit_head SET count = $\(bindings.count - 1), last_hash = $\(bindings.count) WHERE id = 1
                    """, binds: bindings))
        return pending.count
    }
}
