import Foundation
import KoerierModel
import KoerierStore
import KoerierTestSupport
import Testing

/// What only a shared store must do: several daemons (here: several stores, each with its
/// own connection pool, on one database) claiming, deduplicating, auditing and waking each
/// other; and a connection that is TLS-verified over TCP.
@Suite(.ownThreads) struct PostgresStoreTests {
    private let ops = AuditContext(actor: "test", accessPoint: "unit-test")

    private func letter(_ id: MessageID = .generate(), to recipient: String = "gp-de-linde") throws -> OutboundMessage {
        OutboundMessage(
            messageID: id, kind: .returnLetter, recipientID: recipient, recipientType: .huisarts,
            transactionID: try TransactionID("ZD20260302007"), urgency: .routine, payload: Data("<ReturnLetter/>".utf8))
    }

    /// A second daemon on the first one's database and keys.
    private func secondDaemon(_ scratch: ScratchStore) throws -> any MessageStore {
        try scratch.reopen(keys: try PayloadKeyRing.load(file: scratch.keyFile))
    }

    /// A server that stops answering while the schema is migrated: the connection's backend,
    /// waiting for a table another session holds, is frozen with SIGSTOP. The open fails after
    /// the answer timeout with the reason, instead of holding `koerier init` forever.
    @Test func aMigrationTheServerStopsAnsweringFailsTheOpen() async throws {
        let url = try TestPostgres.freshDatabase()
        let database = TestPostgres.databaseName(of: url)
        let cluster = try TestPostgres.cluster()
        // The schema table exists (empty) and another session holds it while sleeping.
        try TestPostgres.psql(
            "CREATE TABLE koerier_schema (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
            database: database)
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        holder.arguments = [
            "-X", "-q", "-h", cluster.socketFolder, "-p", cluster.port, "-U", "koerier", "-d", database, "-c",
            "BEGIN; LOCK TABLE koerier_schema IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60); COMMIT;",
        ]
        holder.standardOutput = FileHandle.nullDevice
        holder.standardError = FileHandle.nullDevice
        try holder.run()
        defer {
            // The sessions end on the server's side too: a client gone does not stop a sleeping backend.
            _ = try? TestPostgres.psql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)' AND pid <> pg_backend_pid()",
                database: database)
            holder.terminate()
            holder.waitUntilExit()
        }
        try await Polling.until("the other session to hold the table") {
            try TestPostgres.psql("SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND granted", database: database) != "0"
        }

        let keyFile = try Repository.temporaryDirectory().appendingPathComponent("payload.keys")
        try PayloadKeyRing.createKeyFile(at: keyFile)
        let keys = try PayloadKeyRing.load(file: keyFile)
        var timeouts = PostgresTimeouts()
        timeouts.statementMilliseconds = 1_000
        timeouts.lockMilliseconds = 60_000
        let opening = Task.detached {
            try MessageStores.postgres(
                location: try PostgresLocation(url: url, relativeTo: Repository.root), keys: keys, timeouts: timeouts, migrate: true)
        }
        var backend: Int32 = 0
        try await Polling.until("the migration to wait for the table") {
            let pid = try TestPostgres.psql(
                "SELECT pid FROM pg_stat_activity WHERE datname = '\(database)' AND application_name = 'koerier' AND wait_event_type = 'Lock'",
                database: database)
            backend = Int32(pid) ?? 0
            return backend > 0
        }
        #expect(kill(backend, SIGSTOP) == 0, "cannot stop the backend \(backend): \(errno)")
        defer { kill(backend, SIGCONT) }
        // Bounded, so that a regression fails here instead of hanging the suite.
        let finished = Counter()
        Task {
            _ = await opening.result
            finished.add()
        }
        try await Polling.until("the open to give up", timeout: 60) { finished.value > 0 }
        let result = await opening.result
        guard case .failure(let error) = result else {
            Issue.record("the store opened although its server stopped answering")
            return
        }
        #expect("\(error)".contains("did not answer within 6 s"), "\(error)")
    }

    @Test func daemonsClaimingAtOnceNeverShareARecord() async throws {
        let scratch = try ScratchStore(.postgres)
        defer { scratch.remove() }
        let daemons = [scratch.store, try secondDaemon(scratch), try secondDaemon(scratch)]
        _ = try scratch.store.enqueueBatch((0..<600).map { _ in try letter() }, now: Date(), context: ops)
        let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for (index, daemon) in daemons.enumerated() {
                for worker in 0..<4 {
                    group.addTask {
                        try await daemon.executor.run {
                            var mine: [Int64] = []
                            while true {
                                let leased = try daemon.leaseDue(
                                    owner: "d\(index)-w\(worker)", now: Date(), duration: 60, limit: 7, context: ops)
                                if leased.isEmpty { return mine }
                                mine += leased.map(\.id)
                            }
                        }
                    }
                }
            }
            return try await group.reduce(into: [Int64]()) { $0 += $1 }
        }
        #expect(claims.count == 600 && Set(claims).count == 600)
        #expect(try scratch.store.counts().map { "\($0.state.rawValue) \($0.count)" } == ["sending 600"])
        #expect(try scratch.store.verifyAudit() == nil)
        #expect(try scratch.store.auditHead().sequence == 1200)
    }

    /// A partner's limit holds for the cluster: three daemons asking for ten each get three
    /// leases together; a settled one frees one slot, whichever daemon asks next.
    @Test func aPartnersLimitHoldsForEveryDaemonTogether() async throws {
        let scratch = try ScratchStore(.postgres)
        defer { scratch.remove() }
        let daemons = [scratch.store, try secondDaemon(scratch), try secondDaemon(scratch)]
        _ = try scratch.store.enqueueBatch((0..<30).map { _ in try letter() }, now: Date(), context: ops)
        func claim(_ daemon: any MessageStore, _ name: String) async throws -> [OutboundRecord] {
            try await daemon.executor.run {
                try daemon.leaseDue(
                    owner: name, now: Date(), duration: 60, limit: 10, recipientID: "gp-de-linde", laneLimit: 3, dueBy: nil, context: ops)
            }
        }
        let leased = try await withThrowingTaskGroup(of: [OutboundRecord].self) { group in
            for (index, daemon) in daemons.enumerated() { group.addTask { try await claim(daemon, "daemon-\(index)") } }
            return try await group.reduce(into: [OutboundRecord]()) { $0 += $1 }
        }
        #expect(leased.count == 3)
        #expect(try await claim(daemons[1], "daemon-1").isEmpty)
        let done = try #require(leased.first)
        _ = try await daemons[0].transaction {
            try $0.transition(done.id, Transition(to: .delivered), lease: done.leaseToken, now: Date(), context: ops)
        }
        #expect(try await claim(daemons[2], "daemon-2").count == 1)
    }

    @Test func theSameMessageAtTwoDaemonsIsStoredOnce() async throws {
        let scratch = try ScratchStore(.postgres)
        defer { scratch.remove() }
        let daemons = [scratch.store, try secondDaemon(scratch)]
        for _ in 0..<20 {
            let arrival = InboundMessage(messageID: .generate(), kind: .referral, sender: "gp", payload: Data("<Referral/>".utf8))
            let duplicates = try await withThrowingTaskGroup(of: Bool.self) { group in
                for daemon in daemons {
                    group.addTask { try await daemon.executor.run { try daemon.receive(arrival, now: Date(), context: ops).duplicate } }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(duplicates.filter { $0 }.count == 1 && duplicates.count == 2)
        }
        #expect(try scratch.store.inboundCounts() == [.received: 20])
    }

    @Test func theAuditChainStaysGaplessWithManyWriters() async throws {
        let scratch = try ScratchStore(.postgres)
        defer { scratch.remove() }
        let daemons = [scratch.store, try secondDaemon(scratch)]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for daemon in daemons {
                for writer in 0..<8 {
                    group.addTask {
                        try await daemon.executor.run {
                            for index in 0..<25 {
                                try daemon.recordAudit(
                                    AuditEvent(kind: .receive, actor: "writer-\(writer)", accessPoint: "test", outcome: "entry \(index)"),
                                    now: Date())
                            }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try scratch.store.auditHead().sequence == 400)
        #expect(try scratch.store.verifyAudit() == nil)
        let sequences = try TestPostgres.psql(
            "SELECT count(*), min(sequence), max(sequence), count(DISTINCT sequence) FROM audit",
            database: TestPostgres.databaseName(of: scratch.location))
        #expect(sequences == "400|1|400|400")
    }

    /// `pg_ctl restart -m immediate` (a crash, as the database sees it) under an open store:
    /// the calls made while it is down fail with a clear error, the ones after work again.
    @Test func theStoreComesBackAfterTheDatabaseRestarts() async throws {
        let cluster = try await ProcessRunner.offPool { try TestPostgres.startCluster() }
        defer { cluster.stop() }
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let keyFile = folder.appendingPathComponent("payload.keys")
        try PayloadKeyRing.createKeyFile(at: keyFile)
        let store = try ScratchStore.open(.postgres, cluster.url(), keys: try PayloadKeyRing.load(file: keyFile), migrate: true)
        let first = try letter()
        _ = try await store.transaction { try $0.enqueue(first, now: Date(), context: ops) }
        #expect(try await ProcessRunner.offPool { cluster.control("restart -m immediate -w") }.status == 0)
        let second = try letter()
        let deadline = Date().addingTimeInterval(30)
        var failures = 0
        while (try? await store.executor.run { try store.enqueue(second, now: Date(), context: ops) }) == nil {
            failures += 1
            try #require(Date() < deadline, "the store took no letter for 30 s after the restart")
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        let leased = try await store.executor.run { try store.leaseDue(owner: "w", now: Date(), duration: 30, limit: 10, context: ops) }
        #expect(Set(leased.map(\.messageID)) == [first.messageID.value, second.messageID.value])
        #expect(try await store.executor.run { try store.verifyAudit() } == nil)
    }

    @Test func aStoreWithoutTheSchemaNamesTheCommandToRun() throws {
        let url = try TestPostgres.freshDatabase()
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let keyFile = folder.appendingPathComponent("payload.keys")
        try PayloadKeyRing.createKeyFile(at: keyFile)
        let error = #expect(throws: StoreError.self) {
            try ScratchStore.open(.postgres, url, keys: try PayloadKeyRing.load(file: keyFile))
        }
        #expect(error?.description.contains("run `koerier init`") == true)
    }

    /// Over TCP the connection is TLS with the server's certificate checked: the cluster's own
    /// certificate as root works (and pg_stat_ssl shows TLS), another root is refused.
    @Test func tcpConnectionsAreVerifiedTLS() throws {
        let scratch = try ScratchStore(.postgres)
        defer { scratch.remove() }
        let cluster = try TestPostgres.cluster()
        let database = TestPostgres.databaseName(of: scratch.location)
        let keys = try PayloadKeyRing.load(file: scratch.keyFile)
        let tcp = "postgres://koerier@localhost:\(cluster.port)/\(database)?sslrootcert=\(cluster.socketFolder)/ca.pem"
        let store = try ScratchStore.open(.postgres, tcp, keys: keys)
        _ = try store.enqueue(try letter(), now: Date(), context: ops)
        let ssl = try TestPostgres.psql(
            "SELECT bool_and(s.ssl), count(*) > 0 FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = '\(database)' AND a.client_addr IS NOT NULL",
            database: "koerier")
        #expect(ssl == "t|t")
        let foreignRoot = Repository.pki.appendingPathComponent("ca.pem").path
        let refused = #expect(throws: StoreError.self) {
            try ScratchStore.open(
                .postgres, "postgres://koerier@localhost:\(cluster.port)/\(database)?sslrootcert=\(foreignRoot)", keys: keys)
        }
        #expect(refused?.description.contains("cannot connect to the database") == true, "\(refused?.description ?? "")")
        #expect(refused?.description.contains("certificate") == true || refused?.description.contains("handshake") == true)
    }

    @Test(arguments: [
        ("postgres://koerier:secret@localhost/db", "a password in the URL is refused"),
        ("postgres://koerier@localhost/db?sslmode=disable", "sslmode=disable is refused"),
        ("postgres://koerier@localhost/db?sslmode=prefer", "sslmode=prefer is refused"),
        ("mysql://koerier@localhost/db", "expected postgres://"),
        ("postgres://localhost/db", "the user is missing"),
        ("postgres://koerier@localhost/", "the database name is missing"),
        ("postgres://koerier@localhost/db?port=99999", "is not a port"),
        ("postgres://koerier@localhost/db?options=-c%20x", "unknown parameter 'options'"),
    ])
    func badURLsAreRefusedWithTheRule(_ url: String, _ rule: String) {
        let error = #expect(throws: StoreError.self) { try PostgresLocation(url: url, relativeTo: Repository.root) }
        #expect(error?.description.contains(rule) == true, "\(error?.description ?? "accepted")")
        #expect(error?.description.contains("secret") != true)
    }
}
