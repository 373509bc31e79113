import Foundation

/// A few reusable C contexts (libxml2 parser and schema-validation contexts, xmlsec
/// signing keys). Creating one per message costs as much as the work itself; reusing them
/// is what keeps Koerier fast. Contexts are handed to one caller at a time; the pool is shared across threads.
package final class ContextPool<Context>: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [Context] = []
    private let capacity: Int
    private let make: () -> Context?
    private let destroy: (Context) -> Void
    /// Contexts destroyed because `reusable` said no (not those over capacity).
    private var refused = 0

    package init(capacity: Int = 8, make: @escaping () -> Context?, destroy: @escaping (Context) -> Void) {
        self.capacity = capacity
        self.make = make
        self.destroy = destroy
    }

    deinit { idle.forEach(destroy) }

    /// Runs `body` with a context. `reusable` decides afterwards whether the context goes
    /// back to the pool (e.g. not when its name dictionary has grown past a bound).
    package func with<Result, Failure: Error>(
        reusable: (Context) -> Bool = { _ in true },
        _ body: (Context?) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        lock.lock()
        let pooled = idle.popLast()
        lock.unlock()
        guard let context = pooled ?? make() else { return try body(nil) }
        defer { giveBack(context, keep: reusable(context)) }
        return try body(context)
    }

    /// How many contexts were dropped because they were no longer fit for reuse.
    package var droppedAsUnfit: Int { lock.withLock { refused } }

    private func giveBack(_ context: Context, keep: Bool) {
        lock.lock()
        if !keep { refused += 1 }
        if keep, idle.count < capacity {
            idle.append(context)
            lock.unlock()
        } else {
            lock.unlock()
            destroy(context)
        }
    }
}
