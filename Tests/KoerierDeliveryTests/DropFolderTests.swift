import Foundation
import KoerierTestSupport
import Testing

/// The drop folder of a real `koerier serve` against hostile files: links, oversized and
/// unsigned files are refused with their reason; a folder others may enter is refused.
@Suite(.serialized, .ownThreads) struct DropFolderTests {
    static func rejection(_ inbox: URL, _ name: String) async throws -> String {
        let file = inbox.appendingPathComponent("rejected/\(name).error")
        try await Polling.until("\(name) to be rejected") { FileManager.default.fileExists(atPath: file.path) }
        return try String(contentsOf: file, encoding: .utf8)
    }

    @Test func linksOversizedAndUnsignedFilesAreRefusedWithTheReason() async throws {
        let centre = try ServeTests.Centre(extra: "limits:\n  max_message_bytes: 16384")
        try await centre.start()
        let inbox = centre.rig.folder.appendingPathComponent("inbox")
        // A link to a file the daemon may read but nobody meant to submit.
        let secret = centre.rig.folder.appendingPathComponent("elsewhere.xml")
        try FileManager.default.copyItem(at: ServeTests.referral, to: secret)
        try FileManager.default.createSymbolicLink(at: inbox.appendingPathComponent("link.xml"), withDestinationURL: secret)
        let linked = try await Self.rejection(inbox, "link.xml")
        #expect(linked.contains("symbolic link"), "\(linked)")

        var big = try Data(contentsOf: ServeTests.referral)
        big.append(Data(repeating: 0x20, count: 20_000))
        try big.write(to: inbox.appendingPathComponent(".big.part"))
        try FileManager.default.moveItem(at: inbox.appendingPathComponent(".big.part"), to: inbox.appendingPathComponent("big.xml"))
        let oversized = try await Self.rejection(inbox, "big.xml")
        #expect(oversized.contains("larger than the limit of 16384 bytes"), "\(oversized)")

        try ServeTests.drop(Repository.samples.appendingPathComponent("referral-huisarts.xml"), into: inbox, as: "unsigned.xml")
        let unsigned = try await Self.rejection(inbox, "unsigned.xml")
        #expect(unsigned.contains("not signed"), "\(unsigned)")
        #expect(try centre.rig.store.trajectories(limit: 5).isEmpty)
        #expect(FileManager.default.fileExists(atPath: secret.path))
    }

    @Test func aTrustedFolderTakesUnsignedFilesAndSaysSoAtStart() async throws {
        let centre = try ServeTests.Centre(extra: "  drop_folder_trusted: true")
        try await centre.start()
        #expect(centre.log.contains("unsigned files are accepted"), "\(centre.log)")
        let inbox = centre.rig.folder.appendingPathComponent("inbox")
        try ServeTests.drop(Repository.samples.appendingPathComponent("referral-huisarts.xml"), into: inbox, as: "unsigned.xml")
        try await Polling.until("the unsigned referral to be stored") { try centre.rig.store.trajectories(limit: 5).count == 1 }
        #expect(!FileManager.default.fileExists(atPath: inbox.appendingPathComponent("unsigned.xml").path))
    }

    /// A record system that exports a corrected letter under the id of one already taken: the
    /// new file is refused with the reason and kept in rejected/, never removed as if it had
    /// been stored; the same file again is taken as the duplicate it is.
    @Test func anotherLetterUnderATakenIdIsRejectedNotDropped() async throws {
        let centre = try ServeTests.Centre(extra: "  drop_folder_trusted: true")
        try await centre.start()
        let inbox = centre.rig.folder.appendingPathComponent("inbox")
        let original = Repository.samples.appendingPathComponent("referral-huisarts.xml")
        try ServeTests.drop(original, into: inbox, as: "first.xml")
        try await Polling.until("the referral to be stored") {
            try centre.rig.store.trajectories(limit: 5).count == 1
                && !FileManager.default.fileExists(atPath: inbox.appendingPathComponent("first.xml").path)
        }
        let corrected = centre.rig.folder.appendingPathComponent("corrected.xml")
        try String(contentsOf: original, encoding: .utf8)
            .replacingOccurrences(of: "sinds zes weken", with: "sinds zeven weken").write(to: corrected, atomically: true, encoding: .utf8)
        try ServeTests.drop(corrected, into: inbox, as: "corrected.xml")
        let reason = try await Self.rejection(inbox, "corrected.xml")
        #expect(reason.contains("was already used for another message; nothing was stored"), "\(reason)")
        #expect(FileManager.default.fileExists(atPath: inbox.appendingPathComponent("rejected/corrected.xml").path))

        try ServeTests.drop(original, into: inbox, as: "again.xml")
        try await Polling.until("the same file again to be taken") {
            !FileManager.default.fileExists(atPath: inbox.appendingPathComponent("again.xml").path)
        }
        #expect(!FileManager.default.fileExists(atPath: inbox.appendingPathComponent("rejected/again.xml").path))
        #expect(try centre.rig.store.trajectories(limit: 5).count == 1)
        #expect(try centre.rig.store.verifyAudit() == nil)
    }

    /// A file the store cannot take now (here: less free disk than `store.min_free_mb`) is
    /// neither lost nor rejected: it stays, and the next run of the daemon stores it.
    @Test func aFileTheStoreCannotTakeNowStaysForTheNextSweep() async throws {
        let rig = try DeliveryRig()
        rig.storeSettings = "  min_free_mb: 1048576"  // 1 TiB: every new message is refused for want of disk
        try rig.configure(
            recipients: HTTPSDeliveryTests.gp(port: try rig.downPort()),
            delivery: "serve:\n  listen: \"127.0.0.1:0\"\n  admin: \"127.0.0.1:0\"\n  inbox: inbox")
        let centre = ServeTests.Centre(rig: rig)
        try await centre.start()
        let inbox = rig.folder.appendingPathComponent("inbox")
        try ServeTests.drop(ServeTests.referral, into: inbox, as: "referral.xml")
        try await Polling.until("the sweep to give up for now") { centre.log.contains("could not be stored now") }
        #expect(FileManager.default.fileExists(atPath: inbox.appendingPathComponent("referral.xml").path))
        #expect(!FileManager.default.fileExists(atPath: inbox.appendingPathComponent("rejected/referral.xml").path))

        let process = try #require(centre.process)
        kill(process.processIdentifier, SIGTERM)
        try await Polling.until("serve to stop") { !process.isRunning }
        let file = URL(fileURLWithPath: centre.config)
        try (try String(contentsOf: file, encoding: .utf8)).replacingOccurrences(of: "  min_free_mb: 1048576\n", with: "")
            .write(to: file, atomically: true, encoding: .utf8)
        try await centre.start()
        try await Polling.until("the referral to be stored") { try rig.store.trajectories(limit: 5).count == 1 }
        #expect(!FileManager.default.fileExists(atPath: inbox.appendingPathComponent("referral.xml").path))
    }

    @Test func aFolderOthersMayEnterIsRefusedAtStart() async throws {
        let centre = try ServeTests.Centre()
        let inbox = centre.rig.folder.appendingPathComponent("inbox")
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: inbox.path)
        let refused = try ProcessRunner.koerier(["serve", "--config", centre.config])
        #expect(refused.exitCode != 0 && refused.stderr.contains("the drop folder has mode 755"), "\(refused.stderr)")
    }
}
