import Foundation
import KoerierModel
import PostgresNIO

/// Chains committed audit entries. Every auditing transaction commits its entries to
/// `audit_pending` with its change (so they share the server's WAL flushes with other
/// daemons' transactions); right after its commit it seals: under the chain's head row
/// (`FOR UPDATE`, waiting for a sealer before it), it moves every pending entry into the
/// HMAC chain, oldest first, in one transaction. One flush then chains the entries of
/// every transaction that committed meanwhile, on any daemon, so the chain's lock costs a
/// flush per batch, not per change. Entries of a daemon that died between its commit and
/// its seal are chained by the next seal anywhere.
enum AuditSealer {
    static let batch = 10_000

    /// Seals what is pending; the number of entries chained.
    @discardableResult
    static func seal(on connection: PostgresConnection, key: AuditKey, answerTimeout: TimeInterval) throws -> Int {
        let transaction = PostgresTransaction(connection: connection, answerTimeout: answerTimeout)
        var total = 0
        while true {
            try transaction.run("BEGIN")
            do {
                let moved = try sealBatch(transaction, key: key)
                guard try transaction.run("COMMIT").metadata.command == "COMMIT" else {
                    throw StoreError("the database rolled the audit seal back")
                }
                total += moved
                if moved < batch { return total }
            } catch {
                _ = try? transaction.run("ROLLBACK")
                throw error
            }
        }
    }

    private static func sealBatch(_ transaction: PostgresTransaction, key: AuditKey) throws -> Int {
        // The head row is the chain's lock; FOR UPDATE reads the head its last holder committed.
        guard let head = try transaction.run("SELECT count, last_hash FROM audit_head WHERE id = 1 FOR UPDATE").rows.first else {
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
            guard let kind = AuditEvent.Kind(rawValue: kindName) else { throw StoreError("a pending audit entry has unknown kind \(kindName)") }
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
            let first = bindings.count + 1
            rows.append("(" + (first..<first + 11).map { "$\($0)" }.joined(separator: ", ") + ")")
            bindings.append(sequence)
            bindings.append(at)
            bindings.append(event.kind.rawValue)
            bindings.append(event.actor)
            bindings.append(event.onBehalfOf)
            bindings.append(event.clientReference)
            bindings.append(event.messageID)
            bindings.append(event.accessPoint)
            bindings.append(event.outcome)
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
