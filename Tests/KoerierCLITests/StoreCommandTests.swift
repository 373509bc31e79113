import Foundation
import KoerierTestSupport
import Testing

/// The ops commands on a store in a temporary folder, through the real binary.
@Suite struct StoreCommandTests {
    /// A config whose store and key file live in a fresh folder.
    private func workspace() throws -> (config: String, folder: URL) {
        let folder = try Repository.temporaryDirectory()
        let config = folder.appendingPathComponent("koerier.yaml")
        try """
        schemas: \(Repository.schemas.path)
        recipients: \(Repository.root.appendingPathComponent("Config/recipients.yaml").path)
        store:
          path: var/koerier.sqlite
          key_file: var/payload.keys
          urgent_alarm_minutes: 1
        """.write(to: config, atomically: true, encoding: .utf8)
        return (config.path, folder)
    }

    private func koerier(_ arguments: [String]) throws -> ProcessResult { try ProcessRunner.koerier(arguments) }

    @Test func queueLifecycleThroughTheCLI() throws {
        let (config, folder) = try workspace()
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

        let show = try koerier(["show", "--config", config, "1", "--payload"])
        #expect(show.exitCode == 0 && show.stdout.contains("<ReturnLetter"))
        #expect(try koerier(["cancel", "--config", config, "2"]).stdout.contains("cancelled"))
        let cannot = try koerier(["retry", "--config", config, "2"])
        #expect(cannot.exitCode == 1 && cannot.stderr.contains("cancelled; it cannot become queued"))

        let audit = try koerier(["audit", "list", "--config", config, "--json"])
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [[String: Any]])
        #expect(entries.compactMap { $0["event"] as? String }.reversed() == ["enqueue", "enqueue", "enqueue", "read", "cancel"])
        #expect(!audit.stdout.contains("999990019"))
        #expect(try koerier(["audit", "verify", "--config", config]).stdout == "audit log intact\n")

        // Nothing was delivered, so retention removes nothing.
        #expect(try koerier(["purge", "--config", config, "--delivered-before", "2030-01-01"]).stdout.contains("purged 0"))
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
}
