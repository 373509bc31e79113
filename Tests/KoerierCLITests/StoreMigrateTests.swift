import Foundation
import GRDB
import KoerierModel
import KoerierStore
import KoerierTestSupport
import Testing

/// `koerier store migrate --to CONFIG`: an embedded store with its audit history moved to
/// PostgreSQL through the real binary, checked with psql and the source's SQLite file.
@Suite(.ownThreads) struct StoreMigrateTests {
    private static let context = AuditContext(actor: "test", accessPoint: "test")

    /// A SQLite config and a PostgreSQL config (a fresh database) in one folder, sharing the
    /// key files unless `ownKeys` gives the target its own payload keys.
    private struct Pair {
        let folder: URL
        let source: String
        let target: String
        let database: String

        init(ownKeys: Bool = false) throws {
            folder = try Repository.temporaryDirectory()
            let url = try TestPostgres.freshDatabase()
            database = TestPostgres.databaseName(of: url)
            source = folder.appendingPathComponent("sqlite.yaml").path
            target = folder.appendingPathComponent("postgres.yaml").path
            let common = """
                schemas: \(Repository.schemas.path)
                recipients: \(Repository.root.appendingPathComponent("Config/recipients.yaml").path)
                """
            try """
            \(common)
            store:
              path: var/koerier.sqlite
              key_file: var/payload.keys
              audit_key_file: var/audit.key
            """.write(toFile: source, atomically: true, encoding: .utf8)
            try """
            \(common)
            store:
              backend: postgres
              url: "\(url)"
              key_file: \(ownKeys ? "other/payload.keys" : "var/payload.keys")
              audit_key_file: var/audit.key
            """.write(toFile: target, atomically: true, encoding: .utf8)
        }

        var sqlitePath: String { folder.appendingPathComponent("var/koerier.sqlite").path }

        func openSource() throws -> any MessageStore {
            try MessageStores.embedded(
                path: sqlitePath, keys: try PayloadKeyRing.load(file: folder.appendingPathComponent("var/payload.keys")),
                auditKey: try AuditKey.load(file: folder.appendingPathComponent("var/audit.key")))
        }

        func rowsInTarget() throws -> Int {
            Int(try TestPostgres.psql("SELECT (SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM audit)", database: database)) ?? -1
        }
    }

    private func koerier(_ arguments: [String]) throws -> ProcessResult { try ProcessRunner.koerier(arguments) }

    private static func letter(_ payload: String) -> OutboundMessage {
        OutboundMessage(
            messageID: .generate(), kind: .returnLetter, recipientID: "gp-de-linde", recipientType: .huisarts,
            transactionID: try! TransactionID("ZD20260302007"), urgency: .routine, payload: Data(payload.utf8))
    }

    /// A source with every kind of row: letters in several states (more than one batch),
    /// inbound messages, an issued receipt, a trajectory with its phase letter and consent.
    private func fill(_ store: any MessageStore) throws {
        let now = Date()
        _ = try store.enqueueBatch((0..<450).map { Self.letter("<ReturnLetter n=\"\($0)\"/>") }, now: now, context: Self.context)
        let leased = try store.leaseDue(owner: "old-daemon", now: now, duration: 60, limit: 30, context: Self.context)
        for record in leased.prefix(20) {
            _ = try store.transition(record.id, Transition(to: .delivered), lease: record.leaseToken, now: now, context: Self.context)
        }
        for index in 0..<3 {
            let message = InboundMessage(
                messageID: .generate(), kind: .receipt, sender: "gp-de-linde", payload: Data("<Receipt n=\"\(index)\"/>".utf8))
            _ = try store.receive(message, now: now, context: Self.context)
            try store.recordIssuedReceipt(Data("<Receipt for=\"\(index)\"/>".utf8), for: message.messageID.value, now: now)
        }
        let referral = InboundMessage(
            messageID: .generate(), kind: .referral, sender: "gp-de-linde", payload: Data("<Referral/>".utf8), clientReference: "client-1")
        let opened = try store.receiveReferral(
            referral, referrerRecipientID: "gp-de-linde",
            consent: ConsentGrant(parties: ["gp-de-linde"], recordedOn: "2026-11-01", source: referral.messageID.value),
            transactionID: "ZD20260302007", now: now, context: Self.context)
        try store.recordPhaseLetter(
            PhaseLetter(
                trajectoryID: opened.trajectory.id, phase: "fase-1", amendment: 0, messageID: MessageID.generate().value, createdAt: now),
            now: now, context: Self.context)
    }

    @Test func anEmbeddedStoreMovesToPostgreSQLWithItsAuditChain() throws {
        let pair = try Pair()
        defer { try? FileManager.default.removeItem(at: pair.folder) }
        #expect(try koerier(["init", "--config", pair.source]).exitCode == 0)
        let source = try pair.openSource()
        try fill(source)
        // Retention already removed the oldest entries: the copy starts after the same one.
        let trimmed = try source.trimAudit(
            through: 100, hash: try #require(try source.auditHash(at: 100)), now: Date(), context: Self.context)
        #expect(trimmed == 100)
        let sourceRecords = try source.records(state: nil, recipientType: nil, since: nil, limit: 1_000)
        let sourceHead = try source.auditHead()

        let migrate = try koerier(["store", "migrate", "--config", pair.source, "--to", pair.target])
        #expect(migrate.exitCode == 0, "\(migrate.stderr)")
        for line in ["outbox: 450 row(s)", "inbox: 4 row(s)", "issued_receipt: 3 row(s)", "trajectory: 1 row(s)", "phase_letter: 1 row(s)"]
        {
            #expect(migrate.stdout.contains(line), "\(migrate.stdout)")
        }
        #expect(migrate.stdout.contains("audit chain verified on both sides (entry \(sourceHead.sequence),"))
        // Not a terminal: plain progress lines on stderr, ending complete.
        #expect(migrate.stderr.contains("migrate: 100% ("))
        #expect(!migrate.stderr.contains("\r"))

        // psql, independently: every entry, the same head as the SQLite file's.
        #expect(
            try TestPostgres.psql("SELECT COUNT(*), MIN(sequence), MAX(sequence) FROM audit", database: pair.database)
                == "\(sourceHead.sequence - 100)|101|\(sourceHead.sequence)")
        #expect(try TestPostgres.psql("SELECT sequence FROM audit_anchor", database: pair.database) == "100")
        #expect(try TestPostgres.psql("SELECT hash FROM audit ORDER BY sequence DESC LIMIT 1", database: pair.database) == sourceHead.hash)
        let sqliteHash = try DatabaseQueue(path: pair.sqlitePath).read {
            try String.fetchOne($0, sql: "SELECT hash FROM audit ORDER BY sequence DESC LIMIT 1")
        }
        #expect(sqliteHash == sourceHead.hash)
        #expect(try TestPostgres.psql("SELECT COUNT(*) FROM trajectory_consent", database: pair.database) == "1")

        // The target, through the CLI: the chain verifies, every record is there in its state,
        // a payload opens, and new records continue after the copied ids.
        #expect(try koerier(["audit", "verify", "--config", pair.target]).stdout == "audit log intact\n")
        let list = try koerier(["list", "--config", pair.target, "--json", "--limit", "1000"])
        let copied = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(copied.count == 450)
        let states = Dictionary(uniqueKeysWithValues: copied.map { ("\($0["id"] ?? "")", $0["state"] as? String ?? "") })
        #expect(sourceRecords.allSatisfy { states["\($0.id)"] == $0.state.rawValue })
        let sample = try #require(sourceRecords.first { $0.state == .delivered })
        let show = try koerier(["show", "--config", pair.target, "\(sample.id)", "--payload"])
        #expect(show.exitCode == 0 && show.stdout.contains("<ReturnLetter n="))
        let letter = Repository.signedSamples.appendingPathComponent("return-letter-fase-2-rsa.xml").path
        #expect(try koerier(["enqueue", "--config", pair.target, "--to", "gp-de-linde", letter]).exitCode == 0)
        let highest = sourceRecords.map(\.id).max() ?? 0
        #expect(Int64(try TestPostgres.psql("SELECT MAX(id) FROM outbox", database: pair.database)) ?? 0 > highest)
        #expect(try koerier(["audit", "verify", "--config", pair.target]).stdout == "audit log intact\n")

        // The source is left as it was.
        #expect(try koerier(["audit", "verify", "--config", pair.source]).stdout == "audit log intact\n")
        #expect(try pair.openSource().auditHead() == sourceHead)
    }

    @Test func aMigrationThatCannotBeWholeCopiesNothing() throws {
        let pair = try Pair()
        defer { try? FileManager.default.removeItem(at: pair.folder) }
        #expect(try koerier(["init", "--config", pair.source]).exitCode == 0)
        try fill(try pair.openSource())

        // A daemon serving the embedded store: it could add letters the copy would miss.
        do {
            let daemon = try DaemonLock.claim(storePath: pair.sqlitePath, role: "serve")
            let refused = try koerier(["store", "migrate", "--config", pair.source, "--to", pair.target])
            #expect(refused.exitCode == 1 && refused.stderr.contains("another Koerier daemon (serve, pid"), "\(refused.stderr)")
            withExtendedLifetime(daemon) {}
        }
        #expect(try pair.rowsInTarget() == 0)

        // The source is not an embedded store.
        let backwards = try koerier(["store", "migrate", "--config", pair.target, "--to", pair.source])
        #expect(backwards.exitCode == 2 && backwards.stderr.contains("must be the embedded one"))

        // Once is fine; into a store that holds data, never.
        #expect(try koerier(["store", "migrate", "--config", pair.source, "--to", pair.target]).exitCode == 0)
        let rows = try pair.rowsInTarget()
        let twice = try koerier(["store", "migrate", "--config", pair.source, "--to", pair.target])
        #expect(twice.exitCode == 1 && twice.stderr.contains("the target store is not empty"))
        #expect(try pair.rowsInTarget() == rows)
    }

    @Test func aTargetWithOtherKeysIsRefusedBeforeAnythingIsWritten() throws {
        let pair = try Pair(ownKeys: true)
        defer { try? FileManager.default.removeItem(at: pair.folder) }
        #expect(try koerier(["init", "--config", pair.source]).exitCode == 0)
        try fill(try pair.openSource())
        #expect(try koerier(["init", "--config", pair.target]).exitCode == 0)  // its own payload keys

        let otherPayloadKeys = try koerier(["store", "migrate", "--config", pair.source, "--to", pair.target])
        #expect(otherPayloadKeys.exitCode == 1)
        #expect(otherPayloadKeys.stderr.contains("does not open with the target's payload keys"), "\(otherPayloadKeys.stderr)")
        #expect(!otherPayloadKeys.stderr.contains("ReturnLetter"))
        #expect(try pair.rowsInTarget() == 0)

        // Another audit key: the source's chain cannot be verified (nor extended) with it.
        try FileManager.default.removeItem(at: pair.folder.appendingPathComponent("other"))
        let text = try String(contentsOfFile: pair.target, encoding: .utf8)
            .replacingOccurrences(of: "key_file: other/payload.keys", with: "key_file: var/payload.keys")
            .replacingOccurrences(of: "audit_key_file: var/audit.key", with: "audit_key_file: other/audit.key")
        try text.write(toFile: pair.target, atomically: true, encoding: .utf8)
        #expect(try koerier(["init", "--config", pair.target]).exitCode == 0)
        let otherAuditKey = try koerier(["store", "migrate", "--config", pair.source, "--to", pair.target])
        #expect(otherAuditKey.exitCode == 1 && otherAuditKey.stderr.contains("the target's audit key does not verify the source's chain"))
        #expect(try pair.rowsInTarget() == 0)
    }
}
