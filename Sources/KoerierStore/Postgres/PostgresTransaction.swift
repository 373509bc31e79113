import Foundation
import PostgresNIO

/// One open PostgreSQL transaction on a blocking thread. The store's calls made inside a
/// unit of work find it here (thread-local, as `OpenTransaction` for SQLite) and join it.
/// Audit events are collected and written last, under the chain's lock, just before
/// COMMIT: the lock serializes every auditing transaction of every daemon, so it is held
/// for as short a time as possible.
final class PostgresTransaction {
    let connection: PostgresConnection
    private(set) var pendingAudit: [(event: AuditEvent, at: Date)] = []
    /// Something became due: the other daemons are woken (NOTIFY) after the commit.
    var wakesDelivery = false

    init(connection: PostgresConnection) { self.connection = connection }

    @discardableResult
    func run(_ query: PostgresQuery) throws -> PostgresQueryResult {
        do {
            return try connection.query(query, logger: PostgresStoreLog.logger).wait()
        } catch {
            if let state = PostgresFailure.sqlState(error), PostgresFailure.retryable.contains(state) { throw PostgresConflict() }
            throw PostgresFailure.explain(error)
        }
    }

    /// The number of rows an UPDATE, INSERT or DELETE changed.
    func changes(_ query: PostgresQuery) throws -> Int {
        try run(query).metadata.rows ?? 0
    }

    func audit(_ event: AuditEvent, at date: Date) {
        pendingAudit.append((event, date))
    }

    /// Writes the collected audit entries: the chain lock, the head, the entries, the head.
    func flushAudit(key: AuditKey) throws {
        guard !pendingAudit.isEmpty else { return }
        try run("SELECT pg_advisory_xact_lock(\(PostgresSchema.auditChainLock))")
        guard let head = try run("SELECT count, last_hash FROM audit_head WHERE id = 1").rows.first else {
            throw StoreError("the audit head is missing")
        }
        var (count, previous) = try head.decode((Int64, String).self)
        var bindings = PostgresBindings(capacity: pendingAudit.count * 11)
        var rows: [String] = []
        for (event, date) in pendingAudit {
            let sequence = count + 1
            let at = date.timeIntervalSince1970
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
        try run(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO audit (sequence, at, kind, actor, on_behalf_of, client_ref, message_id, access_point, outcome,
                                       previous_hash, hash) VALUES \(rows.joined(separator: ", "))
                    """, binds: bindings))
        try run("UPDATE audit_head SET count = \(count), last_hash = \(previous) WHERE id = 1")
        pendingAudit.removeAll()
    }

    private static let key = "koerier.open-postgres-transaction"

    static var current: PostgresTransaction? { Thread.current.threadDictionary[key] as? PostgresTransaction }

    func bind<T>(_ body: () throws -> T) rethrows -> T {
        Thread.current.threadDictionary[Self.key] = self
        defer { Thread.current.threadDictionary.removeObject(forKey: Self.key) }
        return try body()
    }
}
