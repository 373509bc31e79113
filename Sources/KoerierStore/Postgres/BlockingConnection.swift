import Foundation
import PostgresNIO

/// A connection of the client's pool lent to one blocking thread (a store executor thread)
/// for one unit of work. The store's protocols are synchronous and run off Swift's
/// cooperative pool; `PostgresClient` lends connections only inside an async closure. A task
/// holds the lease (suspended, not blocking a cooperative thread) until the blocking thread
/// gives the connection back.
final class LentConnection: @unchecked Sendable {
    private let condition = NSCondition()
    private var connection: PostgresConnection?
    private var failure: (any Error)?
    private var returned = false
    private var returnWaiter: CheckedContinuation<Void, Never>?

    /// Called by the lease task: hands the connection over and waits until it is returned.
    func hold(_ lent: PostgresConnection) async {
        condition.withLock {
            connection = lent
            condition.broadcast()
        }
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let alreadyReturned = condition.withLock {
                if returned { return true }
                returnWaiter = waiter
                return false
            }
            if alreadyReturned { waiter.resume() }
        }
    }

    func fail(_ error: any Error) {
        condition.withLock {
            failure = error
            condition.broadcast()
        }
    }

    /// Waits (blocking) for the connection; a pool that lends none in `timeout` is an error,
    /// and a connection lent later is given back at once.
    func take(timeout: TimeInterval) throws -> PostgresConnection {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(timeout)
        while connection == nil, failure == nil {
            if !condition.wait(until: deadline), connection == nil, failure == nil {
                returned = true
                throw StoreError("the database lent no connection within \(Int(timeout)) s (is it running and reachable?)")
            }
        }
        if let failure { throw PostgresFailure.explain(failure) }
        return connection!
    }

    func giveBack() {
        let waiter = condition.withLock {
            returned = true
            defer { returnWaiter = nil }
            return returnWaiter
        }
        waiter?.resume()
    }
}

extension PostgresClient {
    /// Runs `body` on the calling thread with a connection of the pool. Call it from a
    /// blocking thread only (the store's executor, a command's main thread).
    func withBlockingConnection<T>(timeout: TimeInterval, _ body: (PostgresConnection) throws -> T) throws -> T {
        let lent = LentConnection()
        Task(executorPreference: LendingExecutor.shared) {
            do {
                try await self.withConnection { connection in await lent.hold(connection) }
            } catch {
                lent.fail(error)
            }
        }
        let connection = try lent.take(timeout: timeout)
        defer { lent.giveBack() }
        return try body(connection)
    }
}

/// Waits (blocking the calling thread, never a cooperative one) for async work run on the
/// lending executor.
func blockingAwait<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: Result<T, any Error>?
    Task(executorPreference: LendingExecutor.shared) {
        do { result = .success(try await work()) } catch { result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try result!.get()
}

/// Where the lease tasks run: a serial queue of its own, not Swift's cooperative pool, so a
/// caller that blocks a cooperative thread on the store (which it should not) cannot also
/// starve the task that would lend it its connection.
final class LendingExecutor: TaskExecutor {
    static let shared = LendingExecutor()
    private let queue = DispatchQueue(label: "koerier-store-lending")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}

/// PostgreSQL failures as store errors: the SQLSTATE and a plain reason, never the query's
/// bound values (they may hold patient data).
enum PostgresFailure {
    /// SQLSTATEs after which the whole transaction may simply run again.
    static let retryable: Set<String> = ["40001", "40P01"]

    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    static func explain(_ error: any Error) -> any Error {
        if error is StoreError || error is LeaseLost || error is ConsentConflict || error is PostgresConflict { return error }
        guard let psql = error as? PSQLError else { return StoreError("the database failed: \(type(of: error))") }
        if let info = psql.serverInfo {
            let state = info[.sqlState] ?? "?"
            let message = info[.message] ?? ""
            switch state {
            case "53100": return StoreError("the database's disk is full (nothing was stored; SQLSTATE 53100)")
            case "57014": return StoreError("a database statement ran past statement_timeout (nothing was stored; SQLSTATE 57014)")
            case "55P03": return StoreError("a database lock was not granted within lock_timeout (nothing was stored; SQLSTATE 55P03)")
            case "57P01", "57P02", "57P03":
                return StoreError("the database is shutting down or restarting (nothing was stored; SQLSTATE \(state))")
            default:
                // Server messages name constraints and columns, not values (those are in DETAIL, left out).
                return StoreError("the database refused a statement (SQLSTATE \(state)): \(message)")
            }
        }
        switch psql.code {
        case .connectionError:
            // The cause (refused, unreachable, a TLS handshake or certificate failure) names no data.
            return StoreError("cannot connect to the database: \(psql.underlying.map { "\($0)" } ?? "no reason given")")
        case .serverClosedConnection, .uncleanShutdown:
            return StoreError("the database connection was lost (a change whose commit did not return may or may not be stored)")
        case .sslUnsupported:
            return StoreError("the database does not offer TLS, which the store requires over TCP")
        case .tooManyParameters:
            // Refused by the client before anything was sent: a bug in a batch's size, not the server.
            return StoreError("a statement had more than 65,535 parameters and was not sent (nothing was stored)")
        case .queryCancelled:
            return StoreError("a database statement was cancelled (a change whose commit did not return may or may not be stored)")
        case .poolClosed:
            return StoreError("the store is closed: no connection was given (nothing was stored)")
        case .clientClosedConnection:
            return StoreError("the store is closing its connections (a change whose commit did not return may or may not be stored)")
        default:
            return StoreError("the database connection failed: \(psql.code)")
        }
    }
}
