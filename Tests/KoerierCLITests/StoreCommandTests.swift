import Foundation
import KoerierModel
import KoerierStore
import KoerierTestSupport
import Testing

/// The ops commands on a store in a temporary folder, through the real binary.
@Suite(.ownThreads) struct StoreCommandTests {
    /// A config whose store and key file live in a fresh folder.
    /// With `postgres`, the store is a fresh database on the tests' PostgreSQL.
    private func workspace(postgres: Bool = false) throws -> (config: String, folder: URL) {
        let folder = try Repository.temporaryDirectory()
        let config = folder.appendingPathComponent("koerier.yaml")
        let shared = try postgres ? "  backend: postgres\n  url: \"\(TestPostgres.freshDatabase())\"\n" : ""
        try """
        schemas: \(Repository.schemas.path)
        recipients: \(Repository.root.appendingPathComponent("Config/recipients.yaml").path)
        store:
          path: var/koerier.sqlite
          key_file: var/payload.keys
          urgent_alarm_minutes: 1
        \(shared)
        """.write(to: config, atomically: true, encoding: .utf8)
        return (config.path, folder)
    }

    private func koerier(_ arguments: [String]) throws -> ProcessResult { try ProcessRunner.koerier(arguments) }

    @Test(arguments: [false, true]) func queueLifecycleThroughTheCLI(postgres: Bool) throws {
        let (config, folder) = try workspace(postgres: postgres)
        defer { try? FileManager.default.removeItem(at: folder) }
        let letter = Repository.signedSamples.appendingPathComponent("return-letter-fase-2-rsa.xml").path
        let urgent = Repository.samples.appendingPathComponent("referral-forwarded-urgent.xml").path

        let beforeInit = try koerier(["status", "--config", config])
        #expect(beforeInit.exitCode == 2 && beforeInit.stderr.contains("koerier init"))
        #expect(try koerier(["init", "--config", config]).exitCode == 0)
        let keyMode =
            try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("var/payload.keys").path)[.posixPermissions]
            as? Int
        #expect(keyMode == 0o600)

        let first = try koerier(["enqueue", "--config", config, "--to", "gp-de-linde", letter])
        #expect(first.exitCode == 0 && first.stdout.contains("queued for gp-de-linde (huisarts)"))
        let again = try koerier(["enqueue", "--config", config, "--to", "gp-de-linde", letter])
        #expect(again.exitCode == 0 && again.stdout.contains("already queued"))
        #expect(try koerier(["enqueue", "--config", config, "--to", "ggz-1", urgent]).exitCode == 0)
        let refused = try koerier([
            "enqueue", "--config", config, "--to", "x",
            Repository.invalidSamples.appendingPathComponent("bsn-elfproef.xml").path,
        ])
        #expect(refused.exitCode == 1 && refused.stderr.contains("[bsn-elfproef]") && refused.stderr.contains("not queued"))

        let list = try koerier(["list", "--config", config, "--json"])
        let records = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(records.count == 2)
        #expect(Set(records.compactMap { $0["recipient_type"] as? String }) == ["huisarts", "ggz"])
        #expect(records.allSatisfy { $0["state"] as? String == "queued" })
        #expect(try koerier(["list", "--config", config, "--state", "queued", "--recipient", "ggz"]).stdout.contains("ggz-1"))

        let status = try koerier(["status", "--config", config, "--json"])
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect(summary["dead_letters"] as? Int == 0)
        #expect((summary["outbound"] as? [[String: Any]])?.count == 2)

        // Ids as the store gave them (PostgreSQL's identity skips the value a duplicate used).
        func id(of type: String) -> String { records.first { $0["recipient_type"] as? String == type }.map { "\($0["id"] ?? "")" } ?? "" }
        let show = try koerier(["show", "--config", config, id(of: "huisarts"), "--payload"])
        #expect(show.exitCode == 0 && show.stdout.contains("<ReturnLetter"))
        #expect(try koerier(["cancel", "--config", config, id(of: "ggz")]).stdout.contains("cancelled"))
        let cannot = try koerier(["retry", "--config", config, id(of: "ggz")])
        #expect(cannot.exitCode == 1 && cannot.stderr.contains("cancelled; it cannot become queued"))

        let audit = try koerier(["audit", "list", "--config", config, "--json"])
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [[String: Any]])
        #expect(entries.compactMap { $0["event"] as? String }.reversed() == ["enqueue", "enqueue", "enqueue", "read", "cancel"])
        #expect(!audit.stdout.contains("999990019"))
        #expect(try koerier(["audit", "verify", "--config", config]).stdout == "audit log intact\n")

        // Nothing was delivered, so retention removes nothing.
        #expect(try koerier(["purge", "--config", config, "--delivered-before", "2030-01-01"]).stdout.hasPrefix("purged 0 record(s)"))
        let badDate = try koerier(["purge", "--config", config, "--delivered-before", "yesterday"])
        #expect(badDate.exitCode == 2)
    }

    @Test func aKeyFileOthersCanReadStopsEveryStoreCommand() throws {
        let (config, folder) = try workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try koerier(["init", "--config", config]).exitCode == 0)
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o640], ofItemAtPath: folder.appendingPathComponent("var/payload.keys").path)
        let result = try koerier(["status", "--config", config])
        #expect(result.exitCode == 2)
        #expect(result.stderr.contains("mode 640") && result.stderr.contains("chmod 600"))
    }

    /// The store of a workspace, opened in this process to set up states the CLI then reads.
    private func openStore(_ folder: URL) throws -> any MessageStore {
        try MessageStores.embedded(
            path: folder.appendingPathComponent("var/koerier.sqlite").path,
            keys: try PayloadKeyRing.load(file: folder.appendingPathComponent("var/payload.keys")))
    }

    private static let context = AuditContext(actor: "test", accessPoint: "test")

    private static func message(urgency: Urgency = .routine, recipient: String = "gp-de-linde", bytes: Int = 64) -> OutboundMessage {
        let id = MessageID.generate()
        return OutboundMessage(
            messageID: id, kind: .returnLetter, recipientID: recipient, recipientType: .huisarts,
            transactionID: try! TransactionID("ZD20260302007"), urgency: urgency,
            payload: Data((0..<bytes).map { _ in UInt8.random(in: 0...255) }))
    }

    @Test func purgeRemovesDeliveredRecordsBeforeTheDateAndNothingElse() throws {
        let (config, folder) = try workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try koerier(["init", "--config", config]).exitCode == 0)
        let store = try openStore(folder)
        let delivered = try store.enqueue(Self.message(), now: Date(), context: Self.context).record
        let waiting = try store.enqueue(Self.message(), now: Date(), context: Self.context).record
        let leased = try store.leaseDue(owner: "test", now: Date(), duration: 60, limit: 1, context: Self.context)
        #expect(leased.map(\.id) == [delivered.id])
        _ = try store.transition(
            delivered.id, Transition(to: .delivered), lease: leased.first?.leaseToken, now: Date(), context: Self.context)

        let purge = try koerier(["purge", "--config", config, "--delivered-before", "2100-01-01"])
        #expect(purge.exitCode == 0 && purge.stdout.hasPrefix("purged 1 record(s)"), "\(purge.stdout)\(purge.stderr)")
        // Not a terminal: the progress is a plain line on stderr.
        #expect(purge.stderr.contains("purge: 1 records") && !purge.stderr.contains("\r"), "\(purge.stderr)")
        #expect(try store.record(delivered.id) == nil)
        #expect(try store.record(waiting.id)?.state == .queued)
        #expect(try store.auditEntries(limit: 10).map(\.event.kind).contains(.purge))
        #expect(try koerier(["audit", "verify", "--config", config]).stdout == "audit log intact\n")
    }

    @Test func aLateUrgentMessageIsAnAlarmAndALateRoutineOneIsNot() throws {
        let (config, folder) = try workspace()  // urgent_alarm_minutes: 1
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try koerier(["init", "--config", config]).exitCode == 0)
        let store = try openStore(folder)
        let twoMinutesAgo = Date().addingTimeInterval(-120)
        let late = try store.enqueue(Self.message(urgency: .urgent, recipient: "ggz-1"), now: twoMinutesAgo, context: Self.context).record
        _ = try store.enqueue(Self.message(urgency: .routine), now: twoMinutesAgo, context: Self.context)
        _ = try store.enqueue(Self.message(urgency: .urgent), now: Date(), context: Self.context)

        let status = try koerier(["status", "--config", config])
        let alarms = status.stdout.split(separator: "\n").filter { $0.hasPrefix("ALARM") }
        #expect(
            alarms.count == 1 && alarms.first?.hasPrefix("ALARM: urgent message \(late.messageID) to ggz-1 is queued since") == true,
            "\(status.stdout)")
        let json = try koerier(["status", "--config", config, "--json"])
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((summary["urgent_alarms"] as? [Any])?.count == 1)
    }

    @Test func aCorruptStoreIsExplainedInPlainWords() throws {
        let (config, folder) = try workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try koerier(["init", "--config", config]).exitCode == 0)
        let database = folder.appendingPathComponent("var/koerier.sqlite")
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database.path + suffix) }
        try Data(repeating: 0x5A, count: 8192).write(to: database)
        let status = try koerier(["status", "--config", config])
        #expect(status.exitCode != 0)
        #expect(status.stderr.contains("the database file is corrupt or not a Koerier store"), "\(status.stderr)")
    }

    @Test func theConfiguredFreeSpaceReserveRefusesNewMessagesAndKeepsTheStoreReadable() throws {
        let (config, folder) = try workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A reserve of 1 TiB: no disk here has that much free.
        try (try String(contentsOfFile: config, encoding: .utf8) + "\n  min_free_mb: 1048576\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        #expect(try koerier(["init", "--config", config]).exitCode == 0)
        let letter = Repository.signedSamples.appendingPathComponent("return-letter-fase-2-rsa.xml").path
        let refused = try koerier(["enqueue", "--config", config, "--to", "gp-de-linde", letter])
        #expect(refused.exitCode != 0, "\(refused.stdout)")
        #expect(
            refused.stderr.contains("the disk is full (nothing was stored)") && refused.stderr.contains("in reserve"), "\(refused.stderr)")
        let status = try koerier(["status", "--config", config, "--json"])
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect((summary["outbound"] as? [Any])?.isEmpty == true)
    }

    /// A real full disk: an 8 MiB ext4 image mounted on a loop device (root, as in CI).
    @Test func aFullDiskIsReportedPlainlyAndNothingHalfWrittenCountsAsStored() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let image = folder.appendingPathComponent("disk.img")
        let mountPoint = folder.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: image.path, contents: nil))
        try FileHandle(forWritingTo: image).truncate(atOffset: 8 << 20)
        let mkfs = try ProcessRunner.run("/usr/sbin/mkfs.ext4", ["-q", "-F", "-m", "0", image.path])
        try #require(mkfs.exitCode == 0, "\(mkfs.stderr)")
        let mount = try ProcessRunner.run("mount", ["-o", "loop", image.path, mountPoint.path])
        try #require(mount.exitCode == 0, "mounting a loop image needs root: \(mount.stderr)")
        defer { _ = try? ProcessRunner.run("umount", [mountPoint.path]) }

        let keyFile = folder.appendingPathComponent("payload.keys")
        try PayloadKeyRing.createKeyFile(at: keyFile)
        let path = mountPoint.appendingPathComponent("koerier.sqlite").path
        var accepted: [String] = []
        var failure: Error?
        do {
            let store = try MessageStores.embedded(path: path, keys: try PayloadKeyRing.load(file: keyFile), minimumFreeBytes: 1 << 20)
            while accepted.count < 100_000 {
                let message = Self.message(bytes: 7_000)
                _ = try store.enqueue(message, now: Date(), context: Self.context)
                accepted.append(message.messageID.value)
            }
        } catch {
            failure = error
        }
        let error = try #require(failure)
        #expect("\(error)".contains("the disk is full (nothing was stored)"), "\(error)")
        #expect(accepted.count > 50)

        let reopened = try MessageStores.embedded(path: path, keys: try PayloadKeyRing.load(file: keyFile))
        let stored = try reopened.records(state: nil, recipientType: nil, since: nil, limit: 1_000_000).map(\.messageID)
        // Every enqueue that returned is there; at most the one that failed may be too (not reported, so not owed).
        #expect(Set(stored).isSuperset(of: accepted) && stored.count <= accepted.count + 1)
        #expect(try reopened.verifyAudit() == nil)
    }
}
