import Foundation

/// The threads that run blocking work (SQLite, libcurl, OpenSSL, xmlsec) so that it never
/// occupies Swift's cooperative pool, which the listeners in the same process need.
/// Threads are started on demand up to `maximumThreads` and kept while there is work (one
/// idle for `idleExit` ends, so a short-lived command leaves none behind). The scheduler sizes
/// it to the sum of the lanes' limits, so a lane whose partner hangs holds only its own
/// share of the threads and every other lane still finds one.
public final class BlockingExecutor: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var idle = 0
    private var threads = 0
    public private(set) var maximumThreads: Int
    private let name: String
    private let idleExit: TimeInterval = 30

    public init(name: String, maximumThreads: Int) {
        self.name = name
        self.maximumThreads = max(1, maximumThreads)
    }

    /// Allows `count` more threads: a user that may hold threads for long (a delivery lane
    /// waiting on a slow partner) brings its own share, so it cannot starve the others.
    public func raiseLimit(by count: Int) {
        condition.withLock { maximumThreads += max(0, count) }
    }

    /// Queues `job` for a thread of this executor.
    public func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        if idle == 0, threads < maximumThreads {
            threads += 1
            let thread = Thread { self.work() }
            thread.name = "\(name)-\(threads)"
            thread.start()
        } else {
            condition.signal()
        }
        condition.unlock()
    }

    /// Runs `body` on one of the executor's threads and waits for it without blocking the caller's thread.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result { try body() }) }
        }
    }

    private func work() {
        while true {
            condition.lock()
            idle += 1
            while jobs.isEmpty {
                if !condition.wait(until: Date().addingTimeInterval(idleExit)), jobs.isEmpty {
                    idle -= 1
                    threads -= 1
                    condition.unlock()
                    return
                }
            }
            idle -= 1
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
