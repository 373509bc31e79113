import ArgumentParser
import Foundation
import KoerierSecurity
import KoerierStore

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Queue counts per state and recipient type, the oldest pending message, dead letters, urgent alarms.",
        discussion:
            "An urgent message not delivered within store.urgent_alarm_minutes (default 15), and a CRL past its nextUpdate, are listed as an ALARM."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputFormat

    func run() throws {
        try Output.reportingFailures {
            let (configuration, store) = try global.openStore()
            let now = Date()
            let (counts, summary, inbound) = try storeOperation {
                (
                    try store.counts(),
                    try store.pendingSummary(urgentBefore: now.addingTimeInterval(-Double(configuration.urgentAlarmSeconds))),
                    try store.inboundCounts()
                )
            }
            let dead = counts.filter { $0.state == .dead }.map(\.count).reduce(0, +)
            // A CRL past its nextUpdate no longer vouches for anything: say so, loudly.
            let crl = configuration.crl.map { CRLFreshness.of(file: $0, now: now) }
            var crlAlarm: String?
            switch crl {
            case .stale(let next): crlAlarm = "the CRL is past its nextUpdate (\(iso(next))): fetch a new one"
            case .unreadable: crlAlarm = "the CRL file cannot be read"
            case .fresh, nil: break
            }
            let oldestAge = summary.oldestPending.map { Int(now.timeIntervalSince($0)) }
            let inboundCounts = Dictionary(uniqueKeysWithValues: inbound.map { ($0.key.rawValue, $0.value) })
            if output.json {
                try JSONOutput.print([
                    "outbound": counts.map { ["state": $0.state.rawValue, "recipient_type": $0.recipientType, "count": $0.count] },
                    "inbound": inboundCounts, "dead_letters": dead, "oldest_pending_age_seconds": oldestAge as Any,
                    "urgent_alarms": summary.lateUrgent.map(\.json), "urgent_late_count": summary.lateUrgentCount,
                    "crl_next_update": crl?.nextUpdate.map(iso) as Any, "crl_alarm": crlAlarm as Any,
                ])
                return
            }
            print("Outbound")
            Table.print(["STATE", "RECIPIENT", "COUNT"], counts.map { [$0.state.rawValue, $0.recipientType, String($0.count)] })
            print("")
            print(
                "Inbound: "
                    + (inboundCounts.isEmpty
                        ? "none" : inboundCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
            print("Oldest pending: " + (oldestAge.map { "\($0 / 60) min \($0 % 60) s" } ?? "none"))
            print("Dead letters: \(dead)")
            if let crlAlarm { print("ALARM: \(crlAlarm)") }
            for record in summary.lateUrgent {
                print(
                    "ALARM: urgent message \(record.messageID) to \(record.recipientID) is \(record.state.rawValue) since \(iso(record.createdAt))"
                )
            }
            if summary.unlisted > 0 { print("ALARM: and \(summary.unlisted) more late urgent messages") }
        }
    }
}
