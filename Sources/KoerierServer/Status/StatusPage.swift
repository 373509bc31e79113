import Foundation
import KoerierDelivery
import KoerierRender
import KoerierSecurity
import KoerierStore

/// The status page: plain HTML with inline SVG charts, one stylesheet from the same port,
/// no script of any kind. It refreshes itself (meta refresh); every value from the store or
/// the configuration is escaped, and the CSP forbids script anyway.
enum StatusPage {
    static let refreshSeconds = 30
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static func html(_ snapshot: StatusSnapshot) -> String {
        let e = HTMLRenderer.escape
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="refresh" content="\(refreshSeconds)">
            <title>Koerier status</title>
            <link rel="stylesheet" href="/status.css">
            </head>
            <body>
            <header><h1>Koerier status</h1>
            <p>\(e(snapshot.owner)) · \(time(snapshot.takenAt)) UTC · refreshes every \(refreshSeconds) s</p></header>
            \(alarms(snapshot))
            \(queue(snapshot))
            \(ages(snapshot))
            \(lanes(snapshot))
            \(deadLetters(snapshot))
            \(certificates(snapshot))
            \(charts(snapshot))
            </body>
            </html>

            """
    }

    // MARK: Sections

    static func alarms(_ snapshot: StatusSnapshot) -> String {
        let e = HTMLRenderer.escape
        var items: [String] = []
        for record in snapshot.lateUrgent.lateUrgent {
            items.append(
                "urgent letter \(e(record.messageID)) to \(e(record.recipientID)) is \(e(record.state.rawValue)) "
                    + "since \(time(record.createdAt)) (more than \(snapshot.urgentAlarmMinutes) min)")
        }
        let unlisted = snapshot.lateUrgent.unlisted
        if unlisted > 0 { items.append("and \(unlisted) more late urgent letter(s): <code>koerier list --state queued</code>") }
        let dead = snapshot.shape.filter { $0.state == .dead }.map(\.count).reduce(0, +)
        if dead > 0 { items.append("\(dead) dead letter(s): see below, then <code>koerier retry</code>") }
        for lane in snapshot.lanes where lane.openSince != nil {
            items.append("circuit open for \(e(lane.recipientID)) since \(time(lane.openSince!))")
        }
        for certificate in expiring(snapshot) {
            items.append("\(e(certificate.role)) \(e(certificate.subject ?? "")) \(expiryText(certificate, now: snapshot.takenAt))")
        }
        if snapshot.crlFile != nil {
            switch CRLFreshness(nextUpdate: snapshot.crlNextUpdate, now: snapshot.takenAt) {
            case .stale(let next): items.append("the CRL is stale: its next update was due \(time(next))")
            case .unreadable: items.append("the CRL cannot be read")
            case .fresh: break
            }
        }
        if let problem = snapshot.auditProblem, !problem.isEmpty { items.append("audit log broken: \(e(problem))") }
        guard !items.isEmpty else { return "<section id=\"alarms\" class=\"calm\"><h2>Alarms</h2><p>None.</p></section>" }
        return "<section id=\"alarms\" class=\"alarm\"><h2>Alarms</h2><ul>"
            + items.map { "<li>\($0)</li>" }.joined() + "</ul></section>"
    }

    static func queue(_ snapshot: StatusSnapshot) -> String {
        let states = QueueShape.countedStates
        var counts: [String: [DeliveryState: Int]] = [:]
        for row in snapshot.shape { counts[row.recipientID, default: [:]][row.state, default: 0] += row.count }
        let header = "<tr><th>partner</th>" + states.map { "<th>\($0.rawValue)</th>" }.joined() + "</tr>"
        let rows = counts.keys.sorted().map { partner in
            "<tr><td>\(HTMLRenderer.escape(partner))</td>"
                + states.map { cell(counts[partner]?[$0] ?? 0, alarm: $0 == .dead || $0 == .blocked) }.joined() + "</tr>"
        }
        return section("queue", "Queue by state and partner", rows.isEmpty ? "<p>Nothing waiting.</p>" : table(header, rows))
    }

    static func ages(_ snapshot: StatusSnapshot) -> String {
        let buckets = QueueShape.bucketMinutes.map { "≤ \($0) min" } + ["older"]
        var counts: [String: [Int]] = [:]
        for row in snapshot.shape where [.queued, .retrying, .sending].contains(row.state) {
            counts[row.recipientID, default: Array(repeating: 0, count: buckets.count)][row.ageBucket] += row.count
        }
        let header = "<tr><th>partner</th>" + buckets.map { "<th>\($0)</th>" }.joined() + "</tr>"
        let rows = counts.keys.sorted().map { partner in
            "<tr><td>\(HTMLRenderer.escape(partner))</td>" + (counts[partner] ?? []).map { cell($0, alarm: false) }.joined() + "</tr>"
        }
        return section(
            "ages", "Age of waiting letters (queued, retrying, sending)", rows.isEmpty ? "<p>Nothing waiting.</p>" : table(header, rows))
    }

    static func lanes(_ snapshot: StatusSnapshot) -> String {
        let e = HTMLRenderer.escape
        let header = "<tr><th>partner</th><th>circuit</th><th>in flight</th><th>last attempt</th><th>last error</th></tr>"
        let rows = snapshot.lanes.map { lane -> String in
            let circuit: String
            switch lane.circuit {
            case .closed(let failures): circuit = failures == 0 ? "closed" : "closed (\(failures) failure(s) in a row)"
            case .open(let probeAt):
                circuit =
                    "<strong class=\"bad\">open</strong>, "
                    + (probeAt > snapshot.takenAt ? "next probe \(time(probeAt))" : "probes with its next letter")
            case .probing: circuit = "<strong class=\"bad\">probing</strong> (one letter at a time)"
            }
            return "<tr><td>\(e(lane.recipientID))</td><td>\(circuit)</td><td>\(lane.inFlight) of \(lane.limit)</td>"
                + "<td>\(lane.lastAttemptAt.map(time) ?? "")</td><td>\(e(lane.lastError ?? ""))</td></tr>"
        }
        return section("lanes", "Lanes", rows.isEmpty ? "<p>No lane has had letters since the start.</p>" : table(header, rows))
    }

    static func deadLetters(_ snapshot: StatusSnapshot) -> String {
        let e = HTMLRenderer.escape
        let header = "<tr><th>record</th><th>message id</th><th>partner</th><th>since</th><th>attempts</th><th>reason</th></tr>"
        let rows = snapshot.deadLetters.map { record in
            "<tr><td>\(record.id)</td><td><code>\(e(record.messageID))</code></td><td>\(e(record.recipientID))</td>"
                + "<td>\(time(record.updatedAt))</td><td>\(record.attempts)</td><td>\(e(record.lastError ?? ""))</td></tr>"
        }
        return section("dead", "Dead letters", rows.isEmpty ? "<p>None.</p>" : table(header, rows))
    }

    static func certificates(_ snapshot: StatusSnapshot) -> String {
        let e = HTMLRenderer.escape
        let header = "<tr><th>certificate</th><th>subject</th><th>expires</th><th>file</th></tr>"
        var rows = snapshot.certificates.sorted { ($0.expiresAt ?? .distantPast) < ($1.expiresAt ?? .distantPast) }.map { certificate in
            let warn = certificate.needsAttention(now: snapshot.takenAt)
            return "<tr\(warn ? " class=\"warn\"" : "")><td>\(e(certificate.role))</td><td>\(e(certificate.subject ?? "?"))</td>"
                + "<td>\(expiryText(certificate, now: snapshot.takenAt))</td><td><code>\(e(certificate.file))</code></td></tr>"
        }
        if let file = snapshot.crlFile {
            let freshness = CRLFreshness(nextUpdate: snapshot.crlNextUpdate, now: snapshot.takenAt)
            let state: String
            switch freshness {
            case .fresh(let next): state = "next update \(time(next))"
            case .stale(let next): state = "next update \(time(next)) (stale)"
            case .unreadable: state = "cannot be read"
            }
            rows.append(
                "<tr\(freshness.isFresh ? "" : " class=\"warn\"")><td>CRL</td><td></td><td>\(state)</td><td><code>\(e(file))</code></td></tr>"
            )
        }
        return section("certificates", "Certificates and CRL", table(header, rows))
    }

    static func charts(_ snapshot: StatusSnapshot) -> String {
        let perSecond = snapshot.history.map { Double($0.delivered) / 60 }
        let failedPerSecond = snapshot.history.map { Double($0.failed) / 60 }
        let throughput = SVGChart.line(
            label: "letters per second, last hour",
            series: [
                ("delivered", "#2a7d4f", perSecond.map { Optional($0) }),
                ("failed attempts", "#c0392b", failedPerSecond.map { Optional($0) }),
            ],
            unit: "/s")
        let latency = SVGChart.line(
            label: "delivery latency, last hour",
            series: [
                ("average", "#1f5fa8", snapshot.history.map(\.averageLatency)),
                ("maximum", "#9b59b6", snapshot.history.map { $0.delivered > 0 ? $0.latencyMax : nil }),
            ], unit: "s")
        return section(
            "charts", "Last hour",
            "<figure><figcaption>Letters per second</figcaption>\(throughput)</figure>"
                + "<figure><figcaption>Queued to delivered (seconds)</figcaption>\(latency)</figure>")
    }

    // MARK: Pieces

    static func expiring(_ snapshot: StatusSnapshot) -> [CertificateExpiry] {
        snapshot.certificates.filter { $0.needsAttention(now: snapshot.takenAt) }
    }

    static func expiryText(_ certificate: CertificateExpiry, now: Date) -> String {
        guard let expiresAt = certificate.expiresAt, let left = certificate.secondsLeft(now: now) else { return "cannot be read" }
        let days = Int((left / 86_400).rounded(.down))
        if left < 0 { return "expired \(time(expiresAt))" }
        return "\(time(expiresAt)) (in \(days) day\(days == 1 ? "" : "s"))"
    }

    static func section(_ id: String, _ title: String, _ body: String) -> String {
        "<section id=\"\(id)\"><h2>\(title)</h2>\(body)</section>"
    }

    static func table(_ header: String, _ rows: [String]) -> String {
        "<table><thead>\(header)</thead><tbody>\(rows.joined())</tbody></table>"
    }

    static func cell(_ count: Int, alarm: Bool) -> String {
        count == 0 ? "<td class=\"zero\">0</td>" : "<td\(alarm ? " class=\"bad\"" : "")>\(count)</td>"
    }

    static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [
            .withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate, .withSpaceBetweenDateAndTime,
        ]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    static let stylesheet = """
        body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1d2330; background: #fff; }
        header p { color: #555; margin-top: 0; }
        h1 { margin-bottom: 0.2rem; }
        h2 { font-size: 1.1rem; margin: 1.6rem 0 0.5rem; }
        table { border-collapse: collapse; font-size: 0.9rem; }
        th, td { border-bottom: 1px solid #e1e4ea; padding: 0.3rem 0.7rem; text-align: left; }
        th { background: #f2f4f8; }
        td.zero { color: #aab; }
        .bad { color: #b3261e; font-weight: 600; }
        tr.warn td { background: #fff4e0; }
        section.alarm { border-left: 4px solid #b3261e; padding-left: 0.8rem; }
        section.alarm li { margin: 0.2rem 0; }
        section.calm { border-left: 4px solid #2a7d4f; padding-left: 0.8rem; }
        figure { display: inline-block; margin: 0 1.5rem 1rem 0; }
        figcaption { font-size: 0.85rem; color: #444; }
        code { font-size: 0.85rem; }

        """
}
