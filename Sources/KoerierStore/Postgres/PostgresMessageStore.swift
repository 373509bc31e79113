import Foundation
import KoerierModel
import PostgresNIO

/// The shared store: PostgreSQL, for several Koerier daemons on one queue. The same
/// protocols and unit of work as the embedded SQLite store, with what several writers need:
/// claims with `FOR UPDATE SKIP LOCKED`, leases fenced by token on the database's clock,
/// deduplication by unique keys (`ON CONFLICT DO NOTHING`), audit entries committed with
/// their change and chained right after by whoever holds the chain's head, and a `NOTIFY` after every commit that made letters due.
///
/// postgres-nio's `PostgresClient` (its pool, reconnects and keep-alives) runs in a task the
/// store owns from open to close, not in the daemon's ServiceGroup: the store is opened by
/// one-shot commands too, and its blocking protocols need the pool from the moment it opens.
final class PostgresMessageStore: MessageStore, @unchecked Sendable {
    let client: PostgresClient
    let location: PostgresLocation
    private let clientTask: Task<Void, Never>
    private let keys: PayloadKeyRing
    private let auditKey: AuditKey
    let clientReferencer: ClientReferencer
    let executor: BlockingExecutor
    let databaseClock = DatabaseClock()
    /// How long a caller waits for a connection of the pool.
    let connectionTimeout: TimeInterval = 15
    /// How long a statement may go unanswered (statement_timeout plus a margin).
    let answerTimeout: TimeInterval
    let timeouts: PostgresTimeouts

    /// The channel the daemons LISTEN on; a NOTIFY on it says letters became due.
    static let wakeChannel = "koerier_outbox"

    init(location: PostgresLocation, keys: PayloadKeyRing, auditKey: AuditKey?, timeouts: PostgresTimeouts, migrate: Bool) throws {
        self.location = location
        answerTimeout = Double(timeouts.statementMilliseconds) / 1000 + 5
        self.timeouts = timeouts
        let client = PostgresClient(
            configuration: try location.clientConfiguration(timeouts: timeouts), backgroundLogger: PostgresStoreLog.logger)
        self.client = client
        // On the lending executor, like the lease tasks: callers blocking every cooperative
        // thread must not keep the pool itself from running.
        clientTask = Task(executorPreference: LendingExecutor.shared) { await client.run() }
        self.keys = keys
        self.auditKey = auditKey ?? AuditKey.derived(from: keys)
        clientReferencer = auditKey.map(ClientReferencer.init(auditKey:)) ?? ClientReferencer(keys: keys)
        // One thread per pooled connection: each unit of work holds one of each.
        executor = BlockingExecutor(name: "koerier-store", maximumThreads: timeouts.maximumConnections)
        do {
            // A connection of its own first: a wrong address, password or certificate is
            // reported as it is (the pool would only retry), and the schema is checked on it.
            let settings = try location.connectionConfiguration(timeouts: timeouts)
            let connection = try blockingAwait {
                try await PostgresConnection.connect(configuration: settings, id: 0, logger: PostgresStoreLog.logger)
            }
            defer { _ = try? blockingAwait { try await connection.close() } }
            if migrate { _ = try PostgresSchema.migrate(on: connection, answerTimeout: answerTimeout) }
            let version = try PostgresSchema.version(on: connection, answerTimeout: answerTimeout)
            guard version == PostgresSchema.latest else {
                throw StoreError(
                    version < PostgresSchema.latest
                        ? "the schema is at version \(version), this koerier needs \(PostgresSchema.latest): run `koerier init`"
                        : "the schema is at version \(version), newer than this koerier knows (\(PostgresSchema.latest)): upgrade koerier")
            }
        } catch {
            clientTask.cancel()
            throw StoreError("\(location.description): cannot open the store: \(PostgresFailure.explain(error))")
        }
    }

    deinit { clientTask.cancel() }

    func transaction<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
        if PostgresTransaction.current != nil { return try body(self) }
        return try write { _ in try body(self) }
    }

    /// Each unit in its own transaction on its own connection: concurrent commits share
    /// PostgreSQL's WAL flushes by themselves, so no batching is needed here.
    func groupedTransaction<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
        try transaction(body)
    }

    /// Runs `body` in a transaction (joining the caller's unit of work if one is open):
    /// BEGIN, the body, its audit entries (pending), COMMIT, then NOTIFY if letters became
    /// due, then the pending entries chained. Serialization failures and deadlocks run the
    /// whole body again.
    func write<T>(_ body: (PostgresTransaction) throws -> T) throws -> T {
        if let open = PostgresTransaction.current { return try body(open) }
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try client.withBlockingConnection(timeout: connectionTimeout) { connection in
                    let transaction = PostgresTransaction(connection: connection, answerTimeout: answerTimeout)
                    try transaction.run("BEGIN")
                    do {
                        let result = try transaction.bind { try body(transaction) }
                        try transaction.writeAuditEntries()
                        // An aborted transaction answers COMMIT with ROLLBACK, not an error.
                        guard try transaction.run("COMMIT").metadata.command == "COMMIT" else {
                            throw StoreError("the database rolled the transaction back (nothing was stored)")
                        }
                        // After the commit, never inside it: NOTIFY takes a global lock at commit.
                        if transaction.wakesDelivery { _ = try? transaction.run("SELECT pg_notify(\(Self.wakeChannel), '')") }
                        // The change and its entries are durable; chaining them can wait for the
                        // next seal if this one fails (the connection went away, say).
                        if transaction.wroteAudit {
                            try? AuditSealer.sealIfFree(on: connection, key: auditKey, answerTimeout: answerTimeout)
                        }
                        return result
                    } catch {
                        _ = try? transaction.run("ROLLBACK")
                        throw error
                    }
                }
            } catch is PostgresConflict where attempt < 5 {
                continue
            } catch is PostgresConflict {
                throw StoreError("the change conflicted with other daemons' changes \(attempt) times (nothing was stored)")
            }
        }
    }

    /// Runs reads on a connection of the pool (inside the caller's unit of work if one is open).
    func read<T>(_ body: (PostgresTransaction) throws -> T) throws -> T {
        if let open = PostgresTransaction.current { return try body(open) }
        return try client.withBlockingConnection(timeout: connectionTimeout) { connection in
            try body(PostgresTransaction(connection: connection, answerTimeout: answerTimeout))
        }
    }

    func seal(_ message: OutboundMessage) throws -> SealedOutboundMessage {
        let box = try keys.seal(message.payload, boundTo: message.messageID.value, in: .outbox)
        return SealedOutboundMessage(message: message, keyID: box.keyID, sealedPayload: box.sealed)
    }

    func sealInbound(_ payload: Data, boundTo messageID: String) throws -> (keyID: String, data: Data) {
        let box = try keys.seal(payload, boundTo: messageID, in: .inbox)
        return (box.keyID, box.sealed)
    }

    func openPayload(_ sealed: Data, keyID: String, boundTo messageID: String, in table: PayloadTable) throws -> Data {
        try keys.open(sealed, keyID: keyID, boundTo: messageID, in: table)
    }

    var auditChainKey: AuditKey { auditKey }
}

/// The database's clock as seen from here: leases are written and expire on it, so daemons
/// whose own clocks disagree still agree on when a lease ran out. The offset (database
/// minus local) is measured with one query and kept for a while.
final class DatabaseClock: @unchecked Sendable {
    private let lock = NSLock()
    private var offset: Double = 0
    private var measuredAt: Date = .distantPast
    private let keptFor: TimeInterval = 30

    /// `local` translated to the database's clock, in seconds since 1970.
    func databaseTime(_ local: Date, using transaction: PostgresTransaction) throws -> Double {
        let now = Date()
        if lock.withLock({ now.timeIntervalSince(measuredAt) > keptFor }) {
            let before = Date().timeIntervalSince1970
            let row = try transaction.run("SELECT extract(epoch FROM clock_timestamp())::float8").rows.first
            let after = Date().timeIntervalSince1970
            let database = try row?.decode(Double.self) ?? (before + after) / 2
            lock.withLock {
                offset = database - (before + after) / 2
                measuredAt = now
            }
        }
        return local.timeIntervalSince1970 + lock.withLock { offset }
    }
}

/// A serialization failure or deadlock: the transaction may simply run again. Units of work
/// do; where it reaches a person (a schema migration), it says what happened.
struct PostgresConflict: Error, CustomStringConvertible {
    var description: String {
        "a concurrent transaction conflicted with this one (deadlock or serialization failure, SQLSTATE 40P01/40001); run it again"
    }
}
