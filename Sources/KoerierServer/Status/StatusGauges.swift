import Foundation
import KoerierDelivery
import Metrics

/// The gauges the alert rules (Config/monitoring) watch, set from a status snapshot at
/// each scrape: late urgent letters, open circuits, certificate expiry, the audit chain.
enum StatusGauges {
    static func record(_ snapshot: StatusSnapshot) {
        Gauge(label: "koerier_urgent_letters_late").record(snapshot.lateUrgent.count)
        for lane in snapshot.lanes {
            // Seconds the circuit has been open or probing; 0 while closed.
            let open = lane.openSince.map { max(0, snapshot.takenAt.timeIntervalSince($0)) } ?? 0
            Gauge(label: "koerier_lane_circuit_open_seconds", dimensions: [("recipient", lane.recipientID)]).record(open)
        }
        for certificate in snapshot.certificates {
            // Unreadable counts as expired: the alert fires and the page says why.
            let left = certificate.secondsLeft(now: snapshot.takenAt) ?? -1
            Gauge(
                label: "koerier_certificate_seconds_until_expiry",
                dimensions: [("role", certificate.role), ("subject", certificate.subject ?? "unreadable")]
            ).record(left)
        }
        if let problem = snapshot.auditProblem {
            Gauge(label: "koerier_audit_chain_intact").record(problem.isEmpty ? 1 : 0)
        }
    }
}
