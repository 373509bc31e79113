import Foundation
import KoerierTestSupport
import Testing

/// The intake listener of a real `koerier serve` against independent TLS clients: the NCSC
/// TLS policy (openssl s_client, sslyze), and the limits that drop slow or greedy clients.
@Suite(.serialized, .ownThreads) struct IntakeHardeningTests {
    static let certificate = Repository.pki.appendingPathComponent("gp.pem")
    static let key = Repository.pki.appendingPathComponent("gp.key")
    static let anchors = Repository.pki.appendingPathComponent("ca.pem")

    /// TLS 1.2 suites that the NCSC guidelines do not rate "good": static RSA key exchange,
    /// CBC, SHA-1 MACs.
    static let weakSuites = [
        "AES128-SHA", "AES256-GCM-SHA384", "AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA",
        "ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES256-SHA384",
    ]
    static let goodSuites = ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"]

    static func handshakes(port: Int, suite: String) throws -> Bool {
        try ServeTests.handshakes(port: port, version: "tls1_2", cipher: suite, certificate: certificate, key: key)
    }

    @Test func onlyGoodTLS12SuitesAndTLS13AreAccepted() async throws {
        let centre = try ServeTests.Centre()
        try await centre.start()
        // The control: an OpenSSL server that allows every suite completes a handshake with
        // each weak one, so a refusal below comes from Koerier's listener.
        let (server, control) = try await ServeTests.opensslServer(
            ["-tls1_2", "-cipher", "ALL@SECLEVEL=0"], certificate: Self.certificate, key: Self.key)
        defer { kill(server.processIdentifier, SIGKILL) }
        for suite in Self.weakSuites {
            #expect(try Self.handshakes(port: control, suite: suite), "the control did not take \(suite)")
            #expect(try Self.handshakes(port: centre.port, suite: suite) == false, "the intake accepted \(suite)")
        }
        for suite in Self.goodSuites {
            #expect(try Self.handshakes(port: centre.port, suite: suite), "the intake refused \(suite)")
        }
        #expect(try ServeTests.handshakes(port: centre.port, version: "tls1_3", certificate: Self.certificate, key: Self.key))
        #expect(try ServeTests.handshakes(port: centre.port, version: "tls1_1", certificate: Self.certificate, key: Self.key) == false)
    }

    /// sslyze (PyPI), a scanner that tries every protocol version and suite it knows.
    @Test func sslyzeFindsNoWeakProtocolOrSuite() async throws {
        let centre = try ServeTests.Centre()
        try await centre.start()
        let sslyze = try await ProcessRunner.offPool { try PythonTool.ensure(package: "sslyze", module: "sslyze") }
        let report = centre.rig.folder.appendingPathComponent("sslyze.json")
        let result = try await ProcessRunner.runOffPool(
            sslyze,
            [
                "-m", "sslyze", "--sslv2", "--sslv3", "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3", "--cert",
                try centre.rig.chainFile("gp").path,
                "--key", Self.key.path, "--json_out", report.path, "127.0.0.1:\(centre.port)",
            ])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [String: Any]
        let scan = try #require(
            ((json?["server_scan_results"] as? [[String: Any]])?.first?["scan_result"]) as? [String: Any], "\(result.stdout)")
        func accepted(_ command: String) -> [String] {
            let outcome = (scan[command] as? [String: Any])?["result"] as? [String: Any]
            let suites = outcome?["accepted_cipher_suites"] as? [[String: Any]] ?? []
            return suites.compactMap { ($0["cipher_suite"] as? [String: Any])?["openssl_name"] as? String }
        }
        for old in ["ssl_2_0_cipher_suites", "ssl_3_0_cipher_suites", "tls_1_0_cipher_suites", "tls_1_1_cipher_suites"] {
            #expect(accepted(old).isEmpty, "\(old): \(accepted(old))")
        }
        let tls12 = accepted("tls_1_2_cipher_suites")
        #expect(
            !tls12.isEmpty && tls12.allSatisfy { $0.hasPrefix("ECDHE-") && ($0.contains("GCM") || $0.contains("CHACHA20")) },
            "\(tls12) \(result.stdout)")
        #expect(!accepted("tls_1_3_cipher_suites").isEmpty)
    }

    func slowClient(_ arguments: [String], centre: ServeTests.Centre) async throws -> String {
        let port = centre.port
        let script = Repository.root.appendingPathComponent("Tests/Peers/slow_client.py").path
        let result = try await ProcessRunner.runOffPool(
            ProcessRunner.python,
            [script, arguments[0], "127.0.0.1", "\(port)", Self.anchors.path, try centre.rig.chainFile("gp").path, Self.key.path]
                + arguments.dropFirst())
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + result.stderr
    }

    /// Closed by the server, and not at once (a refused handshake closes at once): the
    /// idle timeout of 2 s, not the client's own 40 s.
    static func closedByIdleTimeout(_ said: String) -> Bool {
        guard let match = said.firstMatch(of: /^closed after ([0-9.]+) s$/), let seconds = Double(match.1) else { return false }
        return seconds >= 1.5
    }

    @Test func slowClientsAreDropped() async throws {
        let centre = try ServeTests.Centre(extra: "  idle_timeout_seconds: 2\n  body_timeout_seconds: 3")
        try await centre.start()
        // No handshake at all; a request head a byte a second; a body a byte a second.
        let silent = try await slowClient(["silent"], centre: centre)
        #expect(Self.closedByIdleTimeout(silent), "\(silent)")
        let head = try await slowClient(["head"], centre: centre)
        #expect(Self.closedByIdleTimeout(head), "\(head)")
        let body = try await slowClient(["body"], centre: centre)
        #expect(body == "status 408", "\(body)")
        // The listener still serves others.
        let referral = try Data(contentsOf: ServeTests.referral)
        #expect(try centre.post(referral, as: "gp").status == 200)
    }

    @Test func connectionsBeyondTheCapWaitUntilOneCloses() async throws {
        let centre = try ServeTests.Centre(extra: "  max_connections: 3")
        try await centre.start()
        let said = try await slowClient(["cap", "3"], centre: centre)
        #expect(said == "extra refused; after one closed: ok", "\(said)")
    }

    /// The handshake checks the client's chain against the CRL too: the test hierarchy's
    /// revoked certificate chains to the anchors, so only the CRL refuses it.
    @Test func aRevokedClientCertificateFailsTheHandshake() async throws {
        let centre = try ServeTests.Centre()
        try await centre.start()
        let referral = try Data(contentsOf: ServeTests.referral)
        #expect(try centre.post(referral, as: "gp").status == 200)
        let refused = try centre.post(referral, as: "revoked")
        #expect(refused.status == 0, "\(refused)")  // no HTTP answer at all: the handshake failed
        #expect(centre.log.contains("a TLS client was refused") && centre.log.contains("revoked"), "\(centre.log)")
    }

    @Test func theDefaultBodyLimitIsFourMebibytes() async throws {
        let centre = try ServeTests.Centre()
        try await centre.start()
        let over = try centre.post(Data(repeating: 0x20, count: 4 * 1024 * 1024 + 1), as: "gp")
        #expect(over.status == 413, "\(over)")
    }
}
