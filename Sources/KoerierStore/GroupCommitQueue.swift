import Foundation

/// Group commit for concurrent producers: one flusher thread takes every enqueue waiting at
/// that moment and stores them in one transaction, one disk flush, then resumes each
/// caller. Each caller still returns only after its message is durable; under load many
/// messages share one flush, which is how the queue outruns one-fsync-per-message.
public final class GroupCommitQueue: @unchecked Sendable {
    private struct Pending {
        let message: SealedOutboundMessage
        let context: AuditContext
        let continuation: CheckedContinuation<EnqueueOutcome, Error>
    }

    private let store: any MessageStore
    private let condition = NSCondition()
    private var pending: [Pending] = []
    private var stopping = false
    private let maxBatch: Int
    private var flusher: Thread?
    private let finished = DispatchSemaphore(value: 0)

    public init(store: any MessageStore, maxBatch: Int = 512) {
        self.store = store
        self.maxBatch = maxBatch
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "koerier-group-commit"
        flusher = thread
        thread.start()
    }

    /// Stops the flusher after the messages already handed in are stored, and waits for it.
    public func shutdown() {
        condition.lock()
        let first = !stopping
        stopping = true
        condition.signal()
        condition.unlock()
        if first { finished.wait() }
    }

    public func enqueue(_ message: OutboundMessage, context: AuditContext) async throws -> EnqueueOutcome {
        // Encrypt here, on the producer's thread, in parallel: the flusher only writes.
        let sealed = try store.seal(message)
        return try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            if stopping {
                condition.unlock()
                continuation.resume(throwing: StoreError("the queue is shutting down; the message was not stored"))
                return
            }
            pending.append(Pending(message: sealed, context: context, continuation: continuation))
            condition.signal()
            condition.unlock()
        }
    }

    private func run() {
        while true {
            condition.lock()
            while pending.isEmpty && !stopping { condition.wait() }
            if pending.isEmpty && stopping {
                condition.unlock()
                finished.signal()
                return
            }
            let batch = Array(pending.prefix(maxBatch))
            pending.removeFirst(batch.count)
            condition.unlock()
            commit(batch)
        }
    }

    private func commit(_ batch: [Pending]) {
        // One audit context per transaction: batch callers that share one (the usual case)
        // together, keeping each caller's own context in its audit entry.
        var groups: [(AuditContext, [Pending])] = []
        for item in batch {
            if let index = groups.firstIndex(where: {
                $0.0.actor == item.context.actor && $0.0.accessPoint == item.context.accessPoint
                    && $0.0.onBehalfOf == item.context.onBehalfOf
            }) {
                groups[index].1.append(item)
            } else {
                groups.append((item.context, [item]))
            }
        }
        for (context, items) in groups {
            do {
                let outcomes = try store.enqueueSealed(items.map(\.message), now: Date(), context: context)
                for (item, outcome) in zip(items, outcomes) { item.continuation.resume(returning: outcome) }
            } catch {
                // Nothing of this transaction was stored: every caller learns so.
                for item in items { item.continuation.resume(throwing: error) }
            }
        }
    }
}
