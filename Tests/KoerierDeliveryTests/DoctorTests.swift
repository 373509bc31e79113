import Foundation
import KoerierDelivery
import KoerierSecurity
import KoerierServer
import KoerierTestSupport
import Testing

/// `koerier doctor` through the real binary, on a set-up with real faults: an expired
/// partner certificate, a stale CRL, a group-readable key, a partner that is down, and a
/// partner that answers (a real mutual-TLS listener) but must receive nothing.
@Suite(.serialized, .ownThreads) struct DoctorTests {
    @Test func eachProblemIsReportedWithItsFix() async throws {
        let rig = try DeliveryRig()
        let requests = Counter()
        let live = try await rig.startListener(as: "gp") { _ in
            requests.add()
            return ListenerAnswer(status: 500, body: Data())
        }
        let down = try rig.downPort()
        let relay = try rig.startSMTPSink()  // aiosmtpd requiring STARTTLS
        let plainRelay = try rig.startSMTPSink(plain: true)  // one offering no STARTTLS
        try rig.configure(
            recipients: HTTPSDeliveryTests.gp(port: live) + HTTPSDeliveryTests.gp(port: down, id: "gp-down")
                + SMTPDeliveryTests.employer(
                    port: down, id: "employer-expired", certificateFile: Repository.pki.appendingPathComponent("expired.pem"))
                + SMTPDeliveryTests.employer(port: relay.port, id: "employer-mail")
                + SMTPDeliveryTests.employer(port: plainRelay.port, id: "employer-plain"))
        let config = rig.folder.appendingPathComponent("koerier.yaml").path
        #expect(try ProcessRunner.koerier(["init", "--config", config]).exitCode == 0)
        // A stale CRL (a scratch CA's, one second long), and a key the group may read.
        let crl = try CRLTests.shortLivedCRL(in: rig.folder)
        try CRLTests.setCRL(rig, to: crl.path)
        try await Task.sleep(nanoseconds: 1_500_000_000)
        let payloadKeys = rig.folder.appendingPathComponent("payload.keys")
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: payloadKeys.path)

        let result = try ProcessRunner.koerier(["doctor", "--config", config, "--json"])
        #expect(result.exitCode == 1, "\(result.stderr)")
        let findings = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: String]])
        func finding(_ check: String, _ status: String, _ detail: String) -> [String: String]? {
            findings.first { $0["check"] == check && $0["status"] == status && ($0["detail"] ?? "").contains(detail) }
        }

        let key = try #require(finding("files", "failure", "payload.keys"), "\(findings)")
        #expect(key["detail"]?.contains("mode 640") == true && key["fix"] == "chmod 600 \(payloadKeys.path)")

        let expired = try #require(finding("certificates", "failure", "S/MIME certificate of employer-expired"), "\(findings)")
        #expect(expired["detail"]?.contains("expired on") == true && expired["fix"]?.contains("renewed certificate") == true)

        let stale = try #require(finding("crl", "failure", "is stale"), "\(findings)")
        #expect(stale["fix"]?.contains("fetch a fresh CRL into \(crl.path)") == true)

        let unreachable = try #require(finding("partner gp-down", "failure", "no TLS handshake with localhost:\(down)"), "\(findings)")
        #expect(unreachable["fix"]?.contains("reachable") == true)

        // The partner that answers: a completed mutual-TLS handshake, its certificate read, nothing sent.
        let reached = try #require(finding("partner gp-de-linde", "ok", "TLS handshake with localhost:\(live) completed"), "\(findings)")
        // The date is the served leaf's own (the test PKI's gp.pem), decoded from the handshake.
        let served = try #require(
            Certificate.loadPEM(try Data(contentsOf: Repository.pki.appendingPathComponent("gp.pem"))).first?.expiresAt)
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        #expect(reached["detail"]?.contains("server certificate valid until \(day.string(from: served))") == true, "\(reached)")
        #expect(requests.value == 0)
        // The relay: greeted, upgraded with STARTTLS, verified; no MAIL was given.
        #expect(finding("partner employer-mail", "ok", "TLS handshake with 127.0.0.1:\(relay.port) completed") != nil, "\(findings)")
        #expect(rig.transcript(of: relay.mailbox).isEmpty)
        #expect(finding("partner employer-plain", "failure", "no TLS handshake with 127.0.0.1:\(plainRelay.port)") != nil, "\(findings)")

        // The store refuses the group-readable key as every command does.
        #expect(finding("store", "failure", "chmod 600") != nil, "\(findings)")

        // Readable for a person too: each problem, then its fix.
        let text = try ProcessRunner.koerier(["doctor", "--config", config])
        #expect(text.exitCode == 1)
        #expect(text.stdout.contains("FAIL crl: \(crl.path) is stale") && text.stdout.contains("     fix: fetch a fresh CRL"))
        #expect(text.stdout.contains("ok   partner gp-de-linde: TLS handshake"))

        // Mended, it says so and exits 0 (the down partner and the expired certificate removed).
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: payloadKeys.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: rig.folder.path)
        try CRLTests.setCRL(rig, to: Repository.pki.appendingPathComponent("crl.pem").path)
        try rig.configure(recipients: HTTPSDeliveryTests.gp(port: live))
        try CRLTests.setCRL(rig, to: Repository.pki.appendingPathComponent("crl.pem").path)
        let healthy = try ProcessRunner.koerier(["doctor", "--config", config])
        let complaints = healthy.stdout.split(separator: "\n").filter { !$0.hasPrefix("ok") && !$0.hasPrefix("     fix") }
        // The test PKI's keys are world-readable in a fresh clone; those are the only findings left.
        #expect(complaints.allSatisfy { $0.contains("Samples/pki") }, "\(healthy.stdout)")
        #expect(healthy.stdout.contains("ok   store: ") && healthy.stdout.contains("audit chain intact"), "\(healthy.stdout)")
        #expect(healthy.stdout.contains("ok   clock: "))
    }
}
