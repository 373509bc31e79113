import Foundation
import KoerierDelivery
import KoerierStore
import Logging
import ServiceLifecycle

/// A flag set once, read from any thread.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    func set() { lock.withLock { stopped = true } }
    var isSet: Bool { lock.withLock { stopped } }
}

/// The delivery scheduler as a service: delivers until graceful shutdown, then waits a
/// bounded time for the transfers in flight (a lease left behind is released at the next start).
struct DeliveryService: Service {
    let worker: DeliveryWorker
    let logger: Logger

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await worker.run { false }
        } onGracefulShutdown: {
            worker.stop()
        }
        logger.info("delivery stopped")
    }
}

/// Sweeps the drop folder every half second until graceful shutdown.
struct DropDirectoryService: Service {
    /// Replaced on a reload (new trust, CRL, directory), like the intake listener's responder.
    let intake: Reloadable<DropDirectoryIntake>
    /// Where the sweep's parsing, checks and store writes run.
    let executor: BlockingExecutor
    let logger: Logger

    func run() async throws {
        let stop = StopFlag()
        await withGracefulShutdownHandler {
            while !stop.isSet {
                do {
                    let current = intake.value
                    _ = try await executor.run { try current.sweep() }
                } catch {
                    logger.error("drop folder sweep failed", metadata: ["reason": "\(error)"])
                }
                try? await Task.sleep(nanoseconds: 500_000_000)
            }
        } onGracefulShutdown: {
            stop.set()
        }
    }
}
