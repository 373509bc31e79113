import Foundation

/// SIGTERM and SIGINT for a daemon: the first asks for a graceful stop (`onFirst`), the
/// second ends the process at once (`onSecond` runs first, e.g. to log it). Leases of
/// transfers cut off that way are released at the next start.
public final class ShutdownSignals: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var sources: [DispatchSourceSignal] = []

    public init(onFirst: @escaping @Sendable () -> Void, onSecond: @escaping @Sendable () -> Void = {}) {
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                let seen = self.lock.withLock {
                    self.count += 1
                    return self.count
                }
                if seen == 1 {
                    onFirst()
                } else {
                    onSecond()
                    exit(1)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    public var requested: Bool { lock.withLock { count > 0 } }
}
