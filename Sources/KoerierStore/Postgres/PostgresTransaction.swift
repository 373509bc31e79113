import Foundation
import NIOCore
import PostgresNIO

/// One open PostgreSQL transaction on a blocking thread. The store's calls made inside a
/// unit of work find it here (thread-local, as `OpenTransaction` for SQLite) and join it.
/// Audit events are collected and written last, to the pending table; the chain takes
/// them right after the commit (`AuditSealer`).
final class PostgresTransaction {
    let connection: PostgresConnection
    private(set) var pendingAudit: [(event: AuditEvent, at: Date)] = []
    /// Something became due: the other daemons are woken (NOTIFY) after the commit.
    var wakesDelivery = false

    /// How long a statement may go unanswered before the connection is given up: a little
    /// more than the session's statement_timeout, which the server enforces itself.
    let answerTimeout: TimeInterval

    init(connection: PostgresConnection, answerTimeout: TimeInterval) {
        self.connection = connection
        self.answerTimeout = answerTimeout
    }

    @discardableResult
    func run(_ query: PostgresQuery) throws -> PostgresQueryResult {
        do {
            return try waitBounded(connection.query(query, logger: PostgresStoreLog.logger))
        } catch {
            if let state = PostgresFailure.sqlState(error), PostgresFailure.retryable.contains(state) { throw PostgresConflict() }
            throw PostgresFailure.explain(error)
        }
    }

    /// The number of rows an UPDATE, INSERT or DELETE changed.
    func changes(_ query: PostgresQuery) throws -> Int {
        try run(query).metadata.rows ?? 0
    }

    /// Waits for an answer, but not forever: a connection whose peer vanished without a
    /// reset (a frozen host, a dropped route) is closed, which fails the statement.
    private func waitBounded(_ answer: EventLoopFuture<PostgresQueryResult>) throws -> PostgresQueryResult {
        let done = DispatchSemaphore(value: 0)
        answer.whenComplete { _ in done.signal() }
        if done.wait(timeout: .now() + answerTimeout) == .timedOut {
            connection.close().whenComplete { _ in }
            throw StoreError("the database did not answer within \(Int(answerTimeout)) s; the connection was closed (nothing was stored)")
        }
        return try answer.wait()
    }

    func audit(_ event: AuditEvent, at date: Date) {
        pendingAudit.append((event, date))
    }

    /// Writes the collected audit entries to `audit_pending`, in this transaction: they
    /// commit with the change they record, or not at all. No lock: concurrent transactions
    /// share the server's WAL flushes. `AuditSealer` chains them right after the commit.
    func writeAuditEntries() throws {
        guard !pendingAudit.isEmpty else { return }
        // One INSERT per slice, in order: a statement takes at most 65,535 parameters, and a
        // unit of work may record more entries than fit in one (a large import, say).
        for start in stride(from: 0, to: pendingAudit.count, by: Self.auditRowsPerInsert) {
            let slice = pendingAudit[start..<min(start + Self.auditRowsPerInsert, pendingAudit.count)]
            var bindings = PostgresBindings(capacity: slice.count * 8)
            var rows: [String] = []
            for (event, date) in slice {
                rows.append(bindings.nextRow(of: 8))
                bindings.append(date.timeIntervalSince1970)
                bindings.appendFields(of: event)
            }
            try run(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO audit_pending (at, kind, actor, on_behalf_of, client_ref, message_id, access_point, outcome)
                        VALUES \(rows.joined(separator: ", "))
                        """, binds: bindings))
        }
        pendingAudit.removeAll()
        wroteAudit = true
    }

    /// Eight parameters a row, well under the protocol's limit of 65,535 a statement.
    static let auditRowsPerInsert = 4_096

    /// Audit entries were committed that the chain does not hold yet.
    private(set) var wroteAudit = false

    private static let key = "koerier.open-postgres-transaction"

    static var current: PostgresTransaction? { Thread.current.threadDictionary[key] as? PostgresTransaction }

    func bind<T>(_ body: () throws -> T) rethrows -> T {
        Thread.current.threadDictionary[Self.key] = self
        defer { Thread.current.threadDictionary.removeObject(forKey: Self.key) }
        return try body()
    }
}

extension PostgresBindings {
    /// The placeholders of the next `columns` values to be appended: `($4, $5, $6)`, for a
    /// multi-row VALUES list built alongside the bindings.
    func nextRow(of columns: Int) -> String {
        "(" + (count + 1...count + columns).map { "$\($0)" }.joined(separator: ", ") + ")"
    }

    /// An audit event's seven fields, in the column order of `audit` and `audit_pending`
    /// (kind, actor, on_behalf_of, client_ref, message_id, access_point, outcome).
    mutating func appendFields(of event: AuditEvent) {
        append(event.kind.rawValue)
        append(event.actor)
        append(event.onBehalfOf)
        append(event.clientReference)
        append(event.messageID)
        append(event.accessPoint)
        append(event.outcome)
    }
}
