import Foundation
import KoerierDelivery
import Metrics

/// The gauges the alert rules (Config/monitoring) watch, set from a status snapshot at
/// each scrape: late urgent letters, open circuits, certificate expiry, the audit chain.
enum StatusGauges {
    static func record(_ snapshot: StatusSnapshot) {
        Gauge(label: "koerier_urgent_letters_late").record(snapshot.lateUrgent.lateUrgentCount)
        let waiting = Set(snapshot.shape.filter { [.queued, .retrying, .sending].contains($0.state) }.map(\.recipientID))
        var series: [Series: Double] = [:]
        for lane in snapshot.lanes {
            // Seconds the circuit has been open or probing while letters wait for the partner;
            // 0 while closed or with nothing to send (an idle partner is not an outage).
            let open = waiting.contains(lane.recipientID) ? lane.openSince.map { max(0, snapshot.takenAt.timeIntervalSince($0)) } ?? 0 : 0
            series[Series(label: "koerier_lane_circuit_open_seconds", dimensions: [("recipient", lane.recipientID)])] = open
        }
        for certificate in snapshot.certificates {
            // Unreadable counts as expired: the alert fires and the page says why.
            let left = certificate.secondsLeft(now: snapshot.takenAt) ?? -1
            let dimensions = [("role", certificate.role), ("subject", certificate.subject ?? "unreadable"), ("file", certificate.file)]
            let key = Series(label: "koerier_certificate_seconds_until_expiry", dimensions: dimensions)
            // Two certificates of one file under one name (a bundle): the first to expire counts.
            series[key] = min(series[key] ?? left, left)
        }
        current.replace(with: series)
        if let problem = snapshot.auditProblem {
            Gauge(label: "koerier_audit_chain_intact").record(problem.isEmpty ? 1 : 0)
        }
    }
}

/// One labelled gauge series.
struct Series: Hashable {
    let label: String
    let dimensions: [(String, String)]

    static func == (left: Series, right: Series) -> Bool {
        left.label == right.label && left.dimensions.map { $0.0 + "=" + $0.1 } == right.dimensions.map { $0.0 + "=" + $0.1 }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(label)
        for (name, value) in dimensions { hasher.combine(name + "=" + value) }
    }
}

/// The series set at the last scrape: one no longer described (a renewed certificate under a
/// new name, a partner gone from the directory) is destroyed, not left at its last value.
final class GaugeSeries: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: Set<Series> = []

    func replace(with values: [Series: Double]) {
        lock.withLock {
            for gone in recorded.subtracting(values.keys) { Gauge(label: gone.label, dimensions: gone.dimensions).destroy() }
            for (series, value) in values { Gauge(label: series.label, dimensions: series.dimensions).record(value) }
            recorded = Set(values.keys)
        }
    }
}

extension StatusGauges {
    static let current = GaugeSeries()
}
