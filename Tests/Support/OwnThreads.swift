import Foundation
import Testing

/// Runs each test case of a suite on threads of its own instead of Swift's cooperative pool.
///
/// Tests that block (a store's synchronous calls to SQLite or PostgreSQL, a `Process` waited
/// for) would otherwise hold the pool's few threads (two on CI) while tests beside them wait
/// for a listener, a peer or a wake-up that can only run on that pool: those waits then
/// timed out in full runs although nothing was wrong. A task's preferred executor is
/// inherited by its child tasks, so concurrency inside a test stays real: every job gets a
/// thread, and no blocked job stands in front of another.
///
/// At most `limit` such test cases run at once, so the suites that block do not swamp the
/// machine with databases and processes either.
public struct OwnThreads: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        guard testCase != nil else { return try await function() }
        await Self.slots.acquire()
        do {
            try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) { try await function() }
            await Self.slots.release()
        } catch {
            await Self.slots.release()
            throw error
        }
    }

    private static let slots = Slots(limit: 8)
}

extension Trait where Self == OwnThreads {
    /// Test cases that block run on threads of their own (see `OwnThreads`).
    public static var ownThreads: Self { OwnThreads() }
}

/// An executor that runs every job on a new thread: nothing it runs can starve anything else.
public final class ThreadPerJobExecutor: TaskExecutor {
    static let shared = ThreadPerJobExecutor()

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        Thread.detachNewThread {
            Thread.current.threadDictionary[Self.marker] = true
            job.runSynchronously(on: executor)
        }
    }

    private static let marker = "koerier.test.own-thread"

    /// Whether the caller runs on one of its threads.
    public static var isCurrent: Bool { Thread.current.threadDictionary[marker] as? Bool == true }
}

/// A counting semaphore for tasks: waiting suspends, it never holds a thread.
private actor Slots {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { free = limit }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}
