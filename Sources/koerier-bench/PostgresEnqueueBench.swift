import Foundation
import KoerierModel
import KoerierStore

/// `enqueue --store postgres`: durable enqueues/s on a private PostgreSQL cluster, beside
/// pgbench's built-in simple-update transactions/s with as many clients on the same cluster
/// in the same run (one small audited write transaction each, as an enqueue is); then the
/// audit chain's appends/s with 1, 8 and 32 writers, each append its own transaction.
enum PostgresEnqueueBench {
    static func run(seconds: Double, producers: Int, payload: Data, keys: PayloadKeyRing) throws {
        let cluster = try BenchPostgres.start()
        defer { cluster.stop() }
        _ = try cluster.pgbench("-i -q -s 10")
        let pgbenchOutput = try cluster.pgbench("-n -b simple-update -c \(producers) -j 2 -T \(max(2, Int(seconds.rounded())))")
        guard let match = pgbenchOutput.firstMatch(of: /tps = ([0-9.]+)/), let pgbenchRate = Double(match.1) else {
            throw CommandFailure("pgbench printed no tps: \(pgbenchOutput)")
        }
        print(String(format: "pgbench simple-update, %d clients: %7.0f transactions/s", producers, pgbenchRate))

        var timeouts = PostgresTimeouts()
        timeouts.maximumConnections = 40
        let store = try MessageStores.postgres(
            location: try PostgresLocation(url: cluster.url, relativeTo: URL(fileURLWithPath: "/")), keys: keys, timeouts: timeouts,
            migrate: true)
        let context = AuditContext(actor: "bench", accessPoint: "bench")
        let transaction = try TransactionID("ZD20260302007")
        let single = try threadedRate(threads: 1, seconds: seconds) {
            _ = try store.enqueue(
                OutboundMessage(
                    messageID: .generate(), kind: .returnLetter, recipientID: "gp", recipientType: .huisarts, transactionID: transaction,
                    urgency: .routine, payload: payload), now: Date(), context: context)
        }
        print(String(format: "koerier enqueue, 1 producer:  %7.0f enqueues/s", single))
        let concurrent = try threadedRate(threads: producers, seconds: seconds) {
            _ = try store.enqueue(
                OutboundMessage(
                    messageID: .generate(), kind: .returnLetter, recipientID: "gp", recipientType: .huisarts, transactionID: transaction,
                    urgency: .routine, payload: payload), now: Date(), context: context)
        }
        print(
            String(
                format: "koerier enqueue, %d producers: %7.0f enqueues/s (%.2f× pgbench)", producers, concurrent, concurrent / pgbenchRate))

        var appends: [String: Any] = [:]
        for writers in [1, 8, 32] {
            let rate = try threadedRate(threads: writers, seconds: seconds) {
                try store.recordAudit(AuditEvent(kind: .receive, actor: "bench", accessPoint: "bench", outcome: "append"), now: Date())
            }
            appends["audit_appends_\(writers)_writers"] = Int(rate)
            print(String(format: "audit chain, %2d writers:     %7.0f appends/s", writers, rate))
        }
        guard try store.verifyAudit() == nil else { throw CommandFailure("the audit chain does not verify after the bench") }
        let result = BenchResult(
            bench: "enqueue-postgres", value: concurrent,
            baseline: "pgbench built-in simple-update transactions/s, \(producers) clients, same cluster, same run",
            baselineValue: pgbenchRate,
            extra: appends.merging([
                "producers": producers, "value_1_producer": Int(single), "payload_bytes": payload.count, "audit_chain_verified": true,
            ]) { first, _ in first })
        print(try result.jsonLine())
    }

    /// Calls per second of `body` on `threads` threads of their own for `seconds`.
    static func threadedRate(threads: Int, seconds: Double, _ body: @escaping @Sendable () throws -> Void) throws -> Double {
        let lock = NSLock()
        nonisolated(unsafe) var total = 0
        nonisolated(unsafe) var failure: (any Error)?
        let group = DispatchGroup()
        let start = Date()
        let deadline = start.addingTimeInterval(seconds)
        for _ in 0..<threads {
            group.enter()
            Thread.detachNewThread {
                var count = 0
                do {
                    while Date() < deadline {
                        try body()
                        count += 1
                    }
                } catch {
                    lock.withLock { failure = error }
                }
                lock.withLock { total += count }
                group.leave()
            }
        }
        group.wait()
        if let failure { throw failure }
        return Double(total) / Date().timeIntervalSince(start)
    }
}
