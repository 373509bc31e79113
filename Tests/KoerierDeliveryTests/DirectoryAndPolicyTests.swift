import Foundation
import KoerierConfig
import KoerierDelivery
import KoerierTestSupport
import Testing

@Suite(.ownThreads) struct DirectoryAndPolicyTests {
    @Test func theExampleDirectoryLoads() throws {
        let directory = try RecipientDirectory.load(file: Repository.root.appendingPathComponent("Config/recipients.yaml"))
        #expect(directory["gp-de-linde"]?.type == .huisarts)
        #expect(directory["employer-voorbeeldstad"]?.type == .werkgever)
        #expect(directory.recipients.count == 5)
    }

    @Test(arguments: [
        (
            "  - id: a\n    type: dokter\n    https:\n      url: https://x/\n      server_anchors: ca.pem\n",
            "recipients.yaml:3: recipient 'a': unknown type 'dokter'"
        ),
        ("  - id: a\n    type: huisarts\n", "recipients.yaml:2: recipient 'a': needs a transport"),
        (
            "  - id: a\n    type: huisarts\n    https:\n      url: http://x/\n      server_anchors: ca.pem\n",
            "recipient 'a': 'http://x/' is not an https:// URL"
        ),
        (
            "  - id: a\n    type: huisarts\n    agb: \"123\"\n    https:\n      url: https://x/\n      server_anchors: ca.pem\n",
            "recipients.yaml:4: recipient 'a': '123' is not an AGB code"
        ),
        (
            "  - id: a\n    type: huisarts\n    https:\n      url: https://x/\n      server_anchor: ca.pem\n",
            "recipients.yaml:6: unknown key 'recipients[0].https.server_anchor'"
        ),
        (
            "  - id: a\n    type: werkgever\n    smtp:\n      to: not-an-address\n      relay: r\n      relay_anchors: ca.pem\n",
            "recipient 'a': 'not-an-address' is not a mail address"
        ),
        (
            "  - id: a\n    type: huisarts\n    https:\n      url: https://x/\n      server_anchors: ca.pem\n  - id: a\n    type: ggz\n    https:\n      url: https://y/\n      server_anchors: ca.pem\n",
            "recipients.yaml:7: recipient id 'a' appears twice"
        ),
    ])
    func aBadEntryIsReportedWithFileAndLine(entry: String, expected: String) throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("recipients.yaml")
        try "recipients:\n\(entry)".write(to: file, atomically: true, encoding: .utf8)
        do {
            _ = try RecipientDirectory.load(file: file, displayPath: "recipients.yaml")
            Issue.record("accepted: \(entry)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }

    @Test func backoffDoublesWithJitterAndGivesUp() {
        let policy = RetryPolicy(maxAttempts: 5, maxAge: 3600, firstDelay: 30, maxDelay: 300)
        let start = Date(timeIntervalSince1970: 1_000_000)
        #expect(policy.verdict(attempts: 1, createdAt: start, now: start, jitter: 1) == .retry(at: start.addingTimeInterval(30)))
        #expect(policy.verdict(attempts: 3, createdAt: start, now: start, jitter: 1) == .retry(at: start.addingTimeInterval(120)))
        #expect(policy.verdict(attempts: 4, createdAt: start, now: start, jitter: 0.5) == .retry(at: start.addingTimeInterval(120)))
        #expect(policy.verdict(attempts: 4, createdAt: start, now: start, jitter: 1) == .retry(at: start.addingTimeInterval(240)))
        #expect(policy.verdict(attempts: 5, createdAt: start, now: start, jitter: 1) == .giveUp("gave up after 5 attempts"))
        // Too old: the next try would fall past the maximum age.
        #expect(
            policy.verdict(attempts: 2, createdAt: start, now: start.addingTimeInterval(3590), jitter: 1)
                == .giveUp("gave up: older than 1 hours"))
    }
}
