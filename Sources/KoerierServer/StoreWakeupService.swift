import KoerierStore
import ServiceLifecycle

/// Listens for other daemons' wake-ups on a shared store while the daemon runs.
struct StoreWakeupService: Service {
    let wakeups: any StoreWakeups
    let ring: @Sendable () -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown { await wakeups.listenForWakeups(ring) }
    }
}
