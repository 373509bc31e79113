import Foundation
import KoerierDelivery
import KoerierModel
import KoerierStore
import KoerierTestSupport
import Testing

/// Fenced leases with real processes: a `koerier deliver` frozen with SIGSTOP past its
/// lease while another worker takes the letter over, then thawed with SIGCONT.
@Suite(.ownThreads) struct FencingTests {
    @Test func aWorkerFrozenPastItsLeaseChangesNothingWhenItWakes() async throws {
        let rig = try DeliveryRig()
        let (responder, gpStore) = try rig.receivingGateway(as: "gp")
        // The GP's gateway answers two seconds after a letter arrived: time to freeze the sender mid-transfer.
        let arrivals = Received()
        let port = try await rig.startListener(as: "gp") { request in
            arrivals.add(request.body)
            try? await Task.sleep(nanoseconds: 2_000_000_000)
            return await responder.respond(request)
        }
        try rig.configure(
            recipients: LaneTests.practice("gp-de-linde", port: port), delivery: "  lease_seconds: 10\n  total_timeout_seconds: 60\n")
        let messageID = try rig.enqueueLetters(1, to: "gp-de-linde")[0]
        let record = try #require(try rig.store.records(state: nil, recipientType: nil, since: nil, limit: 1).first)

        let stale = Process()
        stale.executableURL = URL(fileURLWithPath: ProcessRunner.koerierBinary)
        stale.arguments = ["deliver", "--config", rig.folder.appendingPathComponent("koerier.yaml").path]
        let log = rig.folder.appendingPathComponent("deliver.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        stale.standardOutput = try FileHandle(forWritingTo: log)
        stale.standardError = try FileHandle(forWritingTo: log)
        try stale.run()
        defer { if stale.isRunning { kill(stale.processIdentifier, SIGKILL) } }
        try await Polling.until("the first worker's letter to reach the GP") { !arrivals.all.isEmpty }
        #expect(try rig.store.record(record.id)?.leaseOwner?.hasPrefix("deliver@") == true)
        kill(stale.processIdentifier, SIGSTOP)

        // A second worker (in this process) takes the letter over once the lease expires.
        let takeover = try rig.worker()
        let second = Task {
            while try rig.store.record(record.id)?.state != .acknowledged {
                _ = try await takeover.deliverDue()
                try await Task.sleep(nanoseconds: 200_000_000)
            }
        }
        try await Polling.until("the second worker's letter to reach the GP", timeout: 30) { arrivals.all.count == 2 }
        // While the second worker's transfer runs, the frozen one wakes up with the GP's
        // answer waiting in its socket, tries to settle, and is stopped.
        kill(stale.processIdentifier, SIGCONT)
        try await Task.sleep(nanoseconds: 1_000_000_000)
        kill(stale.processIdentifier, SIGTERM)
        try await Polling.until("the first worker to exit") { !stale.isRunning }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(stale.terminationStatus == 0, "\(output)")
        try await second.value

        // It changed nothing: the record is as the second worker left it, one acknowledgement
        // is on record, and the GP holds the letter once (the repeat was answered from its receipt).
        let settled = try #require(try rig.store.record(record.id))
        #expect(settled.state == .acknowledged && settled.leaseOwner == nil)
        let entries = try rig.store.auditEntries(limit: 1000).map(\.event).filter { $0.messageID == messageID }
        let acknowledgements = entries.filter { $0.kind == .acknowledge }
        #expect(acknowledgements.map(\.accessPoint) == ["test-worker"], "\(entries.map { "\($0.kind) \($0.accessPoint) \($0.outcome)" })")
        #expect(entries.contains { $0.kind == .retry && $0.outcome.contains("expired") })
        #expect(try gpStore.inbound(state: nil, limit: 10).count == 1)
        let gpAudit = try gpStore.auditEntries(limit: 100).map(\.event).filter { $0.messageID == messageID }
        #expect(gpAudit.contains { $0.outcome == "duplicate" })
    }
}
