import Foundation
import KoerierDelivery
import Logging
import ServiceLifecycle

/// A flag set once, read from any thread.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    func set() { lock.withLock { stopped = true } }
    var isSet: Bool { lock.withLock { stopped } }
}

/// The delivery worker as a service: rounds until graceful shutdown, then finishes the
/// round in flight (no transfer is cut off; an unfinished lease would expire and retry).
struct DeliveryService: Service {
    let worker: DeliveryWorker
    let logger: Logger

    func run() async throws {
        let stop = StopFlag()
        try await withGracefulShutdownHandler {
            try await worker.run(pollInterval: 0.5) { stop.isSet }
        } onGracefulShutdown: {
            stop.set()
        }
        logger.info("delivery stopped: transfers in flight finished")
    }
}

/// Sweeps the drop folder every half second until graceful shutdown.
struct DropDirectoryService: Service {
    let intake: DropDirectoryIntake
    let logger: Logger

    func run() async throws {
        let stop = StopFlag()
        await withGracefulShutdownHandler {
            while !stop.isSet {
                do {
                    try intake.sweep()
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
