import Foundation
import KoerierTestSupport
import Testing

/// The blocking suites rely on `.ownThreads` keeping them off Swift's cooperative pool.
@Suite(.ownThreads) struct OwnThreadsTests {
    @Test func aSynchronousTestRunsOnAThreadOfItsOwn() {
        #expect(ThreadPerJobExecutor.isCurrent)
    }

    @Test func childTasksInheritTheThreadsAndRunAtOnce() async throws {
        // Two children that each wait for the other: they finish only if they run at once.
        let first = DispatchSemaphore(value: 0)
        let second = DispatchSemaphore(value: 0)
        async let a: Bool = {
            first.signal()
            return second.wait(timeout: .now() + 10) == .success && ThreadPerJobExecutor.isCurrent
        }()
        async let b: Bool = {
            second.signal()
            return first.wait(timeout: .now() + 10) == .success && ThreadPerJobExecutor.isCurrent
        }()
        let (ranA, ranB) = await (a, b)
        #expect(ranA && ranB)
    }
}
