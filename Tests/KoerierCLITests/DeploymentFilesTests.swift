import Foundation
import KoerierTestSupport
import Testing

/// What ops install beside the binary, checked by the tools that will read it: the alert
/// rules by Prometheus's promtool (syntax and, with series, whether each alert fires), the
/// dashboard's queries by promtool too, and the systemd unit by systemd-analyze.
@Suite(.ownThreads) struct DeploymentFilesTests {
    static let monitoring = Repository.root.appendingPathComponent("Config/monitoring")

    @Test func promtoolAcceptsTheAlertRules() throws {
        let check = try ProcessRunner.run(
            "/usr/bin/promtool", ["check", "rules", Self.monitoring.appendingPathComponent("koerier-alerts.yml").path])
        #expect(check.exitCode == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("SUCCESS: 8 rules found"), "\(check.stdout)")
    }

    @Test func eachAlertFiresOnTheSeriesThatShouldWakeSomeone() throws {
        let test = try ProcessRunner.run(
            "/usr/bin/promtool", ["test", "rules", Repository.root.appendingPathComponent("Tests/Monitoring/koerier-alerts.test.yml").path])
        #expect(test.exitCode == 0, "\(test.stdout)\(test.stderr)")
        #expect(test.stdout.contains("SUCCESS"), "\(test.stdout)")
    }

    /// Every metric the rules and the dashboard name is one Koerier exports (a renamed
    /// metric would leave an alert that can never fire).
    @Test func theRulesAndTheDashboardNameOnlyMetricsKoerierExports() throws {
        let rules = try String(contentsOf: Self.monitoring.appendingPathComponent("koerier-alerts.yml"), encoding: .utf8)
        let dashboard = try String(contentsOf: Self.monitoring.appendingPathComponent("koerier-dashboard.json"), encoding: .utf8)
        let exported = try Self.exportedMetrics()
        let named = Set((rules + dashboard).matches(of: /koerier_[a-z_]+/).map { String($0.output) })
            .map { $0.replacing(/_(bucket|sum|count)$/, with: "") }
        #expect(!named.isEmpty)
        for metric in named { #expect(exported.contains(metric), "\(metric) is not a metric Koerier exports") }
        #expect(exported.contains("koerier_audit_chain_intact") && exported.contains("koerier_certificate_seconds_until_expiry"))
    }

    /// Metric labels given in the sources (`label: "koerier_…"`).
    static func exportedMetrics() throws -> Set<String> {
        var names = Set<String>()
        let sources = Repository.root.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        for file in files where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: /label: "(koerier_[a-z_]+)"/) { names.insert(String(match.output.1)) }
        }
        return names
    }

    @Test func theDashboardIsGrafanaJSONWithValidQueries() throws {
        let data = try Data(contentsOf: Self.monitoring.appendingPathComponent("koerier-dashboard.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(dashboard["uid"] as? String == "koerier-overview" && dashboard["title"] as? String == "Koerier")
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let ids = panels.compactMap { $0["id"] as? Int }
        #expect(ids.count == panels.count && Set(ids).count == ids.count, "every panel has its own id")
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        #expect(expressions.count >= panels.count)
        // Each query as a recording rule, so promtool parses it (Grafana's variables filled in).
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let rules = folder.appendingPathComponent("dashboard-queries.yml")
        let records = expressions.enumerated().map { index, expression in
            let filled = expression.replacingOccurrences(of: "$instance", with: ".*")
            return "      - record: koerier:dashboard_query_\(index)\n        expr: '\(filled.replacingOccurrences(of: "'", with: "''"))'"
        }
        try ("groups:\n  - name: dashboard\n    rules:\n" + records.joined(separator: "\n") + "\n").write(
            to: rules, atomically: true, encoding: .utf8)
        let check = try ProcessRunner.run("/usr/bin/promtool", ["check", "rules", rules.path])
        #expect(check.exitCode == 0, "\(check.stdout)\(check.stderr)")
    }

    /// The unit as systemd reads it (with the binary this build made in ExecStart), with no
    /// complaint, and hardened: systemd's own exposure score says so.
    @Test func systemdAcceptsTheUnitAndRatesItHardened() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let unit = folder.appendingPathComponent("koerier.service")
        let text = try String(contentsOf: Repository.root.appendingPathComponent("Config/koerier.service"), encoding: .utf8)
        #expect(text.contains("ExecReload=/bin/kill -HUP $MAINPID") && text.contains("User=koerier"))
        for setting in ["NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "CapabilityBoundingSet=\n", "ReadWritePaths="] {
            #expect(text.contains(setting), "\(setting)")
        }
        try text.replacingOccurrences(of: "/usr/local/bin/koerier", with: ProcessRunner.koerierBinary).write(
            to: unit, atomically: true, encoding: .utf8)
        let verify = try ProcessRunner.run("/usr/bin/systemd-analyze", ["verify", "--man=no", unit.path])
        #expect(verify.exitCode == 0 && verify.stderr.isEmpty && verify.stdout.isEmpty, "\(verify.stdout)\(verify.stderr)")
        let security = try ProcessRunner.run("/usr/bin/systemd-analyze", ["security", "--offline=true", "--no-pager", unit.path])
        let level = try #require(
            security.stdout.firstMatch(of: /Overall exposure level for koerier.service: ([0-9.]+)/).flatMap { Double($0.output.1) },
            "\(security.stdout.suffix(500))\(security.stderr)")
        #expect(level <= 2.0, "systemd rates the unit's exposure \(level) (2.0 or less is what a hardened service gets)")
    }
}
