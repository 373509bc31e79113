import Foundation
import KoerierDelivery
import KoerierModel
import KoerierStore
import KoerierTestSupport
import Testing

/// Three `koerier serve` daemons on one PostgreSQL deliver 2,000 letters to a real Koerier
/// receiver (the GP's gateway: it verifies, stores and signs a receipt, and answers a
/// message that comes again with its first receipt). Mid-flight one daemon is killed
/// (SIGKILL), another stopped past its lease (SIGSTOP, then SIGCONT) and the database
/// restarted without a clean shutdown (`pg_ctl restart -m immediate`). Afterwards every
/// record is acknowledged exactly once, the receiver holds each letter once, and the
/// audit chain is whole and gapless.
@Suite(.serialized) struct ClusterChaosTests {
    static let letters = 2_000
    static let leaseSeconds = 10

    /// A centre daemon on the shared database, with the first daemon's keys.
    static func daemon(_ name: String, url: String, gpPort: Int, keysFrom first: DeliveryRig?) throws -> ServeTests.Centre {
        let rig = try DeliveryRig()
        if let first { try rig.shareKeys(with: first) }
        rig.storeSettings = "  backend: postgres\n  url: \"\(url)\"\n  instance: \(name)\n  pool_size: 8"
        try rig.configure(
            recipients: HTTPSDeliveryTests.gp(port: gpPort),
            delivery: """
                  lease_seconds: \(leaseSeconds)
                  max_attempts: 50
                  max_retry_seconds: 1
                serve:
                  listen: "127.0.0.1:0"
                  admin: "127.0.0.1:0"
                  inbox: inbox
                """)
        return ServeTests.Centre(rig: rig)
    }

    @Test func threeDaemonsSurviveKillStopAndADatabaseRestart() async throws {
        // initdb, pg_ctl and the signing of 2,000 letters block: off the cooperative pool.
        let cluster = try await ProcessRunner.offPool { try TestPostgres.startCluster() }
        defer { cluster.stop() }
        let url = cluster.url()
        let gpSide = try DeliveryRig()
        let (responder, gpStore) = try gpSide.receivingGateway(as: "gp")
        let gpPort = try await gpSide.startListener(as: "gp") { await responder.respond($0) }

        let first = try await ProcessRunner.offPool { try Self.daemon("daemon-a", url: url, gpPort: gpPort, keysFrom: nil) }
        let daemons = try await ProcessRunner.offPool {
            [
                first, try Self.daemon("daemon-b", url: url, gpPort: gpPort, keysFrom: first.rig),
                try Self.daemon("daemon-c", url: url, gpPort: gpPort, keysFrom: first.rig),
            ]
        }
        // The run is over: the daemons go at once (a drain against a removed database would only wait).
        defer { for daemon in daemons { daemon.process.map { if $0.isRunning { kill($0.processIdentifier, SIGKILL) } } } }
        let store = first.rig.store!
        let ids = try await ProcessRunner.offPool { try first.rig.enqueueLetters(Self.letters, to: "gp-de-linde") }
        for daemon in daemons { try await daemon.start() }
        func acknowledged() throws -> Int { try RestartTests.acknowledged(store) }

        // SIGKILL daemon C mid-flight: its leases run out and the others take them over.
        try await Polling.until("200 letters acknowledged", timeout: 120) { try acknowledged() >= 200 }
        let killed = try #require(daemons[2].process)
        kill(killed.processIdentifier, SIGKILL)
        // SIGSTOP daemon B mid-flight, past its lease; meanwhile the database restarts.
        try await Polling.until("500 letters acknowledged", timeout: 120) { try acknowledged() >= 500 }
        let stopped = try #require(daemons[1].process)
        kill(stopped.processIdentifier, SIGSTOP)
        let stoppedAt = Date()
        try await Polling.until("800 letters acknowledged", timeout: 120) { try acknowledged() >= 800 }
        #expect(try acknowledged() < Self.letters, "the letters were all out before the database restart: the test proves nothing")
        let restart = try await ProcessRunner.offPool { cluster.control("restart -m immediate -w") }
        #expect(restart.status == 0, "pg_ctl restart: \(restart.output)")
        let pause = Double(Self.leaseSeconds + 3) - Date().timeIntervalSince(stoppedAt)
        if pause > 0 { try await Task.sleep(nanoseconds: UInt64(pause * 1e9)) }
        kill(stopped.processIdentifier, SIGCONT)

        do {
            try await Polling.until("every letter to be acknowledged", timeout: 120) { (try? acknowledged()) == Self.letters }
        } catch {
            let states = (try? store.counts().map { "\($0.state.rawValue) \($0.count)" }) ?? []
            let pending =
                (try? store.records(state: nil, recipientType: nil, since: nil, limit: 3000).filter { $0.state != .acknowledged }) ?? []
            Issue.record(
                """
                not all acknowledged: \(states); pending: \(pending.prefix(5).map { "\($0.id) \($0.state.rawValue) \($0.leaseOwner ?? "-") \($0.lastError ?? "")" })
                daemon logs: \(daemons.map { $0.log.split(separator: "\n").suffix(8).joined(separator: "\n") }.joined(separator: "\n---\n"))
                """)
            throw error
        }
        #expect(try store.counts().map { "\($0.state.rawValue) \($0.count)" } == ["acknowledged \(Self.letters)"])
        // The receiver holds each letter once.
        let held = try gpStore.inbound(state: nil, limit: 10_000).map(\.messageID)
        #expect(held.count == Self.letters && Set(held) == Set(ids))
        // Exactly one acknowledgement per record: every stale settle changed nothing.
        let database = TestPostgres.databaseName(of: url)
        let psql = { (sql: String) in
            try ProcessRunner.run(
                "/usr/bin/psql",
                ["-X", "-A", "-t", "-h", cluster.socketFolder, "-p", cluster.port, "-U", "koerier", "-d", database, "-c", sql]
            ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(
            try psql("SELECT count(*), count(DISTINCT message_id) FROM audit WHERE kind = 'acknowledge'")
                == "\(Self.letters)|\(Self.letters)")
        #expect(try psql("SELECT count(*) = max(sequence) AND min(sequence) = 1 FROM audit") == "t")
        #expect(try store.verifyAudit() == nil)
        // The ops command agrees, on another daemon's configuration.
        let verify = try ProcessRunner.run(ProcessRunner.koerierBinary, ["audit", "verify", "--config", daemons[1].config])
        #expect(verify.exitCode == 0, "\(verify.stdout)\(verify.stderr)")
        // What happened, for the record: takeovers, receiver duplicates, attempts.
        let takeovers = try psql("SELECT count(*) FROM audit WHERE kind = 'retry' AND outcome LIKE 'lease of % expired%'")
        let attempts = try psql("SELECT sum(attempts) FROM outbox")
        let duplicates = try gpStore.auditEntries(limit: 100_000).filter { $0.event.outcome == "duplicate" }.count
        let metrics = (try? daemons[1].get("/metrics"))?.body ?? ""
        let stale = metrics.split(separator: "\n").first { $0.hasPrefix("koerier_lease_lost_total") }?.split(separator: " ").last ?? "0"
        print(
            "cluster chaos: \(Self.letters) acknowledged once each; leases taken over \(takeovers); attempts \(attempts);"
                + " stale settlements refused at the stopped daemon \(stale); duplicates the receiver answered with its first receipt \(duplicates)"
        )
    }
}
