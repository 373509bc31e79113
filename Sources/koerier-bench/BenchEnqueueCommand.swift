import ArgumentParser
import Foundation
import KoerierModel
import KoerierStore

struct BenchEnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Durable enqueues/s with 1 and 16 producers against the disk's raw write+fsync rate; status time at 1M records.",
        discussion: """
            Runs in a scratch store next to the configured one (same disk), removed afterwards. \
            The baseline, measured in the same run on the same disk, is small writes each followed \
            by fsync: the bound for storing one message at a time durably. 16 producers go through \
            group commit (many enqueues share one transaction and one flush). The JSON line's \
            ratio is the 16-producer rate against that baseline. Then a store is filled with \
            --status-records small records and the queries of `koerier status` are timed.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Seconds for each rate measurement.")
    var seconds: Double = 2

    @Option(help: "Records in the store whose status is timed.")
    var statusRecords = 1_000_000

    @Option(help: "Concurrent producers for the group-commit measurement.")
    var producers = 16

    @Option(help: "sqlite (the embedded store, against raw fsync) or postgres (a private cluster, against pgbench).")
    var store: BenchStore = .sqlite

    func run() async throws {
        let configuration = try global.loadConfiguration()
        let scratch = try BenchLoopback.scratchFolder(next: configuration.storePath)
        defer { BenchLoopback.removeScratch(scratch) }
        let keyFile = scratch.appendingPathComponent("payload.keys")
        try PayloadKeyRing.createKeyFile(at: keyFile)
        let keys = try PayloadKeyRing.load(file: keyFile)
        let payload =
            FileManager.default.contents(
                atPath: configuration.samplesDirectory
                    .appendingPathComponent("signed/return-letter-fase-2-rsa.xml").path) ?? Data(repeating: 0x41, count: 6000)
        let context = AuditContext(actor: "bench", accessPoint: "bench")
        let transaction = try TransactionID("ZD20260302007")
        func message(_ payload: Data) -> OutboundMessage {
            OutboundMessage(
                messageID: .generate(), kind: .returnLetter, recipientID: "gp", recipientType: .huisarts,
                transactionID: transaction, urgency: .routine, payload: payload)
        }

        if store == .postgres {
            return try PostgresEnqueueBench.run(seconds: seconds, producers: producers, payload: payload, keys: keys)
        }
        let fsyncRate = try rawFsyncRate(in: scratch, seconds: seconds)
        print(String(format: "raw write+fsync:         %7.0f /s", fsyncRate))

        let embedded = try MessageStores.embedded(path: scratch.appendingPathComponent("rate.sqlite").path, keys: keys)
        let single = try measureRate(seconds: seconds) { _ = try embedded.enqueue(message(payload), now: Date(), context: context) }.rate
        print(String(format: "1 producer:              %7.0f enqueues/s (%.2f× fsync)", single, single / fsyncRate))

        let queue = GroupCommitQueue(store: embedded)
        defer { queue.shutdown() }
        let start = Date()
        let deadline = start.addingTimeInterval(seconds)
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<producers {
                group.addTask {
                    var count = 0
                    while Date() < deadline {
                        _ = try await queue.enqueue(message(payload), context: context)
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        let concurrent = Double(total) / Date().timeIntervalSince(start)
        print(String(format: "%d producers (group commit): %7.0f enqueues/s (%.2f× fsync)", producers, concurrent, concurrent / fsyncRate))

        let statusMilliseconds = try timeStatus(records: statusRecords, in: scratch, keys: keys, context: context)
        print(String(format: "status with %d records: %.1f ms", statusRecords, statusMilliseconds))

        let result = BenchResult(
            bench: "enqueue", value: concurrent, baseline: "raw 256-byte write+fsync on the store's disk, one at a time",
            baselineValue: fsyncRate,
            extra: [
                "producers": producers, "value_1_producer": Int(single),
                "ratio_1_producer": (single / fsyncRate * 1000).rounded() / 1000,
                "payload_bytes": payload.count, "status_ms": (statusMilliseconds * 10).rounded() / 10,
                "status_records": statusRecords,
            ])
        print(try result.jsonLine())
    }

    /// Small appends, each made durable with fsync before the next: the disk's bound for
    /// storing one message at a time.
    private func rawFsyncRate(in folder: URL, seconds: Double) throws -> Double {
        let path = folder.appendingPathComponent("fsync.bin").path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard descriptor >= 0 else { throw CommandFailure("cannot create \(path)") }
        defer { close(descriptor) }
        let record = [UInt8](repeating: 0x42, count: 256)
        return try measureRate(seconds: seconds) {
            guard write(descriptor, record, record.count) == record.count, fsync(descriptor) == 0 else {
                throw CommandFailure("write+fsync failed on \(path)")
            }
        }.rate
    }

    /// Fills a store with `records` small messages (in large transactions), then times the
    /// queries `koerier status` runs; the best of five runs counts.
    private func timeStatus(records: Int, in folder: URL, keys: PayloadKeyRing, context: AuditContext) throws -> Double {
        let store = try MessageStores.embedded(path: folder.appendingPathComponent("status.sqlite").path, keys: keys)
        let transaction = try TransactionID("ZD20260302007")
        let types: [RecipientType] = [.huisarts, .bedrijfsarts, .ggz, .werkgever, .sociaalDomein]
        var made = 0
        while made < records {
            let batch = (0..<min(10_000, records - made)).map { index in
                OutboundMessage(
                    messageID: .generate(), kind: .returnLetter, recipientID: "r\(index % 50)",
                    recipientType: types[index % types.count], transactionID: transaction,
                    urgency: index % 97 == 0 ? .urgent : .routine, payload: Data(repeating: 0x41, count: 200))
            }
            _ = try store.enqueueBatch(batch, now: Date(), context: context)
            made += batch.count
        }
        var best = Double.infinity
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try store.counts()
            _ = try store.pendingSummary(urgentBefore: Date().addingTimeInterval(-900))
            _ = try store.inboundCounts()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return best
    }
}

/// Which store a bench measures.
enum BenchStore: String, ExpressibleByArgument, Sendable {
    case sqlite, postgres
}
