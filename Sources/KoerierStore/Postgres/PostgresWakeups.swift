import Foundation
import PostgresNIO

extension PostgresMessageStore: StoreWakeups {
    /// LISTEN on a connection of its own (a listening connection is pinned), reconnecting
    /// after a second when the database goes away (a restart, a failover).
    func listenForWakeups(_ ring: @escaping @Sendable () -> Void) async {
        // On the lending executor, as the pool itself: busy cooperative threads must not
        // keep the listener from (re)connecting.
        await withTaskExecutorPreference(LendingExecutor.shared) { await listen(ring) }
    }

    private func listen(_ ring: @escaping @Sendable () -> Void) async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.wakeChannel) { notifications in
                        ring()
                        for try await _ in notifications { ring() }
                    }
                }
            } catch {
                // The loop reconnects; the scheduler's timer covers the gap.
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
