import Foundation
import KoerierModel
import KoerierStore
import KoerierTestSupport
import Testing

/// The status page of a running `koerier serve`, opened in headless Chromium (Debian's
/// `chromium`): what it shows, that its console stays clean, and that markup smuggled in
/// through stored data is shown as text and never runs.
@Suite(.serialized, .ownThreads) struct StatusPageTests {
    /// A partner whose S/MIME certificate expires in ten days (made here with openssl).
    static func expiringPartner(_ folder: URL) throws -> String {
        let certificate = folder.appendingPathComponent("expiring-smime.pem")
        let made = try ProcessRunner.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "10", "-subj",
                "/CN=expiring-employer", "-keyout", folder.appendingPathComponent("expiring-smime.key").path, "-out", certificate.path,
            ])
        #expect(made.exitCode == 0, "\(made.stderr)")
        return SMTPDeliveryTests.employer(port: 1, id: "employer-expiring", certificateFile: certificate)
    }

    @Test func theStatusPageShowsQueueLanesDeadLettersAndExpiringCertificates() async throws {
        // A circuit that opens at the first failure and stays open while the test looks.
        let delivery = "  circuit_failures: 1\n  first_retry_seconds: 600\n  max_retry_seconds: 600\n"
        let centre = try ServeTests.Centre(delivery: delivery)
        let rig = centre.rig
        // Centre's directory, with the partner whose certificate expires soon added.
        try rig.configure(
            recipients: HTTPSDeliveryTests.gp(port: try rig.downPort()) + (try Self.expiringPartner(rig.folder)),
            delivery: delivery + "serve:\n  listen: \"127.0.0.1:0\"\n  admin: \"127.0.0.1:0\"\n  inbox: inbox\n")
        // A partner that is down (its lane's circuit opens), a letter to a partner the
        // directory does not know (dead at once), and one whose partner id carries markup.
        _ = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "gp-de-linde", type: .huisarts)
        _ = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "gp-moved-away", type: .huisarts)
        let injected = "<script>document.title='owned';document.body.innerHTML='owned'</script>"
        _ = try rig.enqueue("return-letter-fase-2-rsa.xml", to: injected, type: .huisarts)
        try await centre.start()
        defer { centre.process?.terminate() }
        try await Polling.until("the circuit to open and both letters to be dead") {
            let page = try centre.get("/status").body
            return page.contains("circuit open for gp-de-linde") && page.contains("gp-moved-away") && page.contains("owned")
        }

        let page = try centre.get("/status")
        #expect(page.status == 200)
        // Escaped wherever it appears: text, never markup.
        #expect(!page.body.contains("<script"))
        #expect(page.body.contains("&lt;script&gt;document.title=&#39;owned&#39;"))
        let headers = try curl(["-D", "-", "-o", "/dev/null", "http://127.0.0.1:\(centre.admin)/status"]).body
        #expect(headers.lowercased().contains("content-security-policy: default-src 'none'; style-src 'self'"))

        let profile = rig.folder.appendingPathComponent("chromium-profile")
        let url = "http://127.0.0.1:\(centre.admin)/status"
        let dom = try Chromium.run(["--dump-dom"], url: url, profile: profile)
        #expect(dom.exitCode == 0, "\(dom.stderr.suffix(2_000))")
        // What a person sees: the queue, a lane in circuit, a dead letter with its reason, the
        // expiring certificate, the charts; the title the page set, not the injected one.
        #expect(dom.stdout.contains("<title>Koerier status</title>"))
        #expect(dom.stdout.contains("Queue by state and partner") && dom.stdout.contains("gp-de-linde"))
        #expect(dom.stdout.contains("circuit open for gp-de-linde") && dom.stdout.contains(">open</strong>"))
        #expect(dom.stdout.contains("unknown recipient 'gp-moved-away'"))
        #expect(dom.stdout.contains("S/MIME certificate of employer-expiring") && dom.stdout.contains("expiring-employer"))
        #expect(dom.stdout.contains("(in 9 days)") || dom.stdout.contains("(in 10 days)"))
        #expect(dom.stdout.contains("<svg") && dom.stdout.contains("letters per second, last hour"))
        #expect(!dom.stdout.contains("<body>owned"))
        #expect(Chromium.consoleLines(dom.stderr).isEmpty, "\(Chromium.consoleLines(dom.stderr))")

        let screenshot = rig.folder.appendingPathComponent("status-page.png")
        try Chromium.screenshot(url: url, profile: profile, to: screenshot, width: 1280, height: 1700)
    }

    /// A partner taken out of the directory (SIGHUP) takes its gauges with it: its lane's
    /// circuit and its certificate's expiry are no longer scraped, where a left-over last value
    /// would keep an alert firing (or silent) for something that is gone.
    @Test func gaugesOfAPartnerRemovedByAReloadAreNotScrapedAnyMore() async throws {
        let centre = try ServeTests.Centre()
        let rig = centre.rig
        let gp = HTTPSDeliveryTests.gp(port: try rig.downPort())
        let moved = HTTPSDeliveryTests.gp(port: try rig.downPort(), id: "gp-moving")
        try rig.configure(
            recipients: gp + moved + (try Self.expiringPartner(rig.folder)),
            delivery: "serve:\n  listen: \"127.0.0.1:0\"\n  admin: \"127.0.0.1:0\"\n  inbox: inbox\n")
        // Both partners are down: each has a lane with a letter waiting.
        _ = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "gp-de-linde", type: .huisarts)
        _ = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "gp-moving", type: .huisarts)
        try await centre.start()
        let process = try #require(centre.process)
        defer { process.terminate() }
        let goneLane = "koerier_lane_circuit_open_seconds{recipient=\"gp-moving\"}"
        let keptLane = "koerier_lane_circuit_open_seconds{recipient=\"gp-de-linde\"}"
        try await Polling.until("the partners' gauges") {
            let metrics = try centre.get("/metrics").body
            return metrics.contains(goneLane) && metrics.contains(keptLane) && metrics.contains("expiring-smime.pem")
        }

        try "recipients:\n\(gp)".write(to: rig.folder.appendingPathComponent("recipients.yaml"), atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        try await Polling.until("the reload") { centre.log.contains("reloaded: configuration") }
        try await Polling.until("the removed partners' gauges to go") {
            let metrics = try centre.get("/metrics").body
            return !metrics.contains(goneLane) && !metrics.contains("expiring-smime.pem")
        }
        #expect(try centre.get("/metrics").body.contains(keptLane))
    }

    /// The page's CSP holds even if something were not escaped: an inline script in a page
    /// served with the same header does not run, and Chromium reports the refusal.
    @Test func theContentSecurityPolicyStopsAnInlineScript() async throws {
        let centre = try ServeTests.Centre()
        try await centre.start()
        defer { centre.process?.terminate() }
        let headers = try curl(["-D", "-", "-o", "/dev/null", "http://127.0.0.1:\(centre.admin)/status"]).body
        let policy = try #require(
            headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-security-policy:") }.map {
                String($0.drop { $0 != ":" }.dropFirst()).trimmingCharacters(in: .whitespaces)
            })
        // The same policy, delivered by a page of its own with an inline script in it.
        let page = centre.rig.folder.appendingPathComponent("injected.html")
        try """
        <!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="\(policy)"><title>before</title></head>
        <body><p id="p">untouched</p><script>document.getElementById('p').textContent = 'script ran';</script></body></html>
        """.write(to: page, atomically: true, encoding: .utf8)
        let dom = try Chromium.run(["--dump-dom"], url: page.absoluteString, profile: centre.rig.folder.appendingPathComponent("profile"))
        // The DOM after the page ran: the paragraph as served (the script's own text stays in its element).
        #expect(dom.stdout.contains("<p id=\"p\">untouched</p>"), "\(dom.stdout)")
        #expect(!dom.stdout.contains("<p id=\"p\">script ran</p>"))
        #expect(Chromium.consoleLines(dom.stderr).contains { $0.contains("Content Security Policy") }, "\(dom.stderr.suffix(2_000))")
    }

    func curl(_ arguments: [String]) throws -> (status: Int, body: String) {
        let result = try ProcessRunner.run("/usr/bin/curl", ["-s"] + arguments)
        return (Int(result.exitCode), result.stdout)
    }
}
