import Foundation

/// A count several threads or tasks add to, and a test reads (requests a peer got, wake-ups
/// that rang, a task that finished).
public final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    public init() {}

    public func add() { lock.withLock { count += 1 } }
    public var value: Int { lock.withLock { count } }
}
