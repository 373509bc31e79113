import Foundation
import KoerierSecurity
import Logging
import ServiceLifecycle

/// Watches the CRL file: when it changes (a new CRL fetched by cron), and at least every
/// `refreshEvery` anyway, the gateway reloads its trust as on SIGHUP, so a revocation takes
/// effect without a restart. A CRL past its nextUpdate is logged as an error at each check
/// (and shows in `status` and `/metrics`).
struct CRLWatch: Service {
    let file: URL
    let logger: Logger
    let reload: @Sendable () -> Void
    var checkEvery: Duration = .seconds(5)
    var refreshEvery: TimeInterval = 3600

    func run() async throws {
        var seen = Self.fingerprint(file)
        // Read again only when the file changes: a CRL says when it goes stale.
        var nextUpdate = TrustStore.crlNextUpdate(file: file)
        var lastReload = Date()
        var warnedStale = false
        while !Task.isCancelled {
            try? await Task.sleep(for: checkEvery)
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            let now = Self.fingerprint(file)
            if now != seen || Date().timeIntervalSince(lastReload) >= refreshEvery {
                logger.notice(now != seen ? "the CRL file changed: reloading trust" : "periodic CRL reload")
                if now != seen { nextUpdate = TrustStore.crlNextUpdate(file: file) }
                seen = now
                lastReload = Date()
                reload()
            }
            let stale = !CRLFreshness(nextUpdate: nextUpdate, now: Date()).isFresh
            if stale, !warnedStale {
                logger.error("the CRL is past its nextUpdate or unreadable: fetch a new one", metadata: ["file": "\(file.path)"])
            }
            warnedStale = stale
        }
    }

    /// What identifies a version of the file: inode, size and modification time.
    static func fingerprint(_ file: URL) -> [Int] {
        var status = stat()
        guard stat(file.path, &status) == 0 else { return [] }
        return [Int(status.st_ino), Int(status.st_size), Int(status.st_mtim.tv_sec), Int(status.st_mtim.tv_nsec)]
    }
}
