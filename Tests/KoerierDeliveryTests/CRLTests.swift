import Foundation
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierServer
import KoerierTestSupport
import Testing

/// Revocation lists as ops meet them: required outside test mode, a stale one raised as an
/// alarm, a new one taken without a restart.
@Suite(.serialized, .ownThreads) struct CRLTests {
    /// A CRL of a scratch CA (openssl ca) whose nextUpdate is one second after now.
    static func shortLivedCRL(in folder: URL) throws -> URL {
        let ca = folder.appendingPathComponent("scratch-ca")
        try FileManager.default.createDirectory(at: ca, withIntermediateDirectories: true)
        try Data().write(to: ca.appendingPathComponent("index.txt"))
        try Data("01\n".utf8).write(to: ca.appendingPathComponent("crlnumber"))
        try """
        [ca]
        default_ca = scratch
        [scratch]
        database = \(ca.path)/index.txt
        crlnumber = \(ca.path)/crlnumber
        default_md = sha256
        """.write(to: ca.appendingPathComponent("ca.cnf"), atomically: true, encoding: .utf8)
        func openssl(_ arguments: [String]) throws {
            let result = try ProcessRunner.run("/usr/bin/openssl", arguments)
            #expect(result.exitCode == 0, "openssl \(arguments.first ?? ""): \(result.stderr)")
        }
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=TEST ONLY scratch CA", "-days",
            "1",
            "-keyout", ca.appendingPathComponent("ca.key").path, "-out", ca.appendingPathComponent("ca.pem").path,
        ])
        let crl = folder.appendingPathComponent("short.crl.pem")
        try openssl([
            "ca", "-batch", "-config", ca.appendingPathComponent("ca.cnf").path, "-gencrl", "-crlsec", "1", "-keyfile",
            ca.appendingPathComponent("ca.key").path, "-cert", ca.appendingPathComponent("ca.pem").path, "-out", crl.path,
        ])
        return crl
    }

    static func setCRL(_ rig: DeliveryRig, to path: String?) throws {
        let file = rig.folder.appendingPathComponent("koerier.yaml")
        var lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n").filter { !$0.hasPrefix("  crl:") }
        if let path, let index = lines.firstIndex(of: "trust:") { lines.insert("  crl: \(path)", at: index + 1) }
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
    }

    @Test func daemonsRefuseToRunWithoutACRLOutsideTestMode() throws {
        let rig = try FileAccessTests.strictRig()
        try FileAccessTests.chmod(rig.pki.appendingPathComponent("centre.key"), 0o600)
        try Self.setCRL(rig, to: nil)
        let config = rig.folder.appendingPathComponent("koerier.yaml").path
        for command in [["deliver", "--once"], ["serve"]] {
            let refused = try ProcessRunner.koerier(command + ["--config", config])
            #expect(refused.exitCode != 0 && refused.stderr.contains("'trust.crl' is required"), "\(command): \(refused.stderr)")
        }
    }

    @Test func aCRLPastItsNextUpdateIsAnAlarmInStatusAndMetrics() async throws {
        let centre = try ServeTests.Centre()
        let crl = try Self.shortLivedCRL(in: centre.rig.folder)
        try Self.setCRL(centre.rig, to: crl.path)
        try await Polling.until("the short-lived CRL to pass its nextUpdate") {
            let result = try ProcessRunner.koerier(["status", "--config", centre.config])
            return result.stdout.contains("ALARM: the CRL is past its nextUpdate")
        }
        try await centre.start()
        let metrics = try centre.get("/metrics").body
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("koerier_crl_seconds_until_next_update") }
        let value = line.flatMap { Double($0.split(separator: " ").last ?? "") }
        #expect(value.map { $0 < 0 } == true, "\(line ?? "no CRL gauge")")
        // The status page raises it as well, and marks the CRL's row.
        let page = try centre.get("/status").body
        #expect(page.contains("the CRL is stale: its next update was due"), "\(page.suffix(3_000))")
        #expect(page.contains("(stale)</td>"))
    }

    /// One rule for every place that judges a CRL: fresh until its nextUpdate, stale from
    /// that moment on, unreadable when the file holds no CRL (a certificate, say).
    @Test func aCRLIsFreshUntilItsNextUpdateAndStaleFromThen() async throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(CRLFreshness.of(file: Repository.pki.appendingPathComponent("crl.pem"), now: Date()).isFresh)
        let shortLived = try Self.shortLivedCRL(in: folder)
        let next = try #require(CRLFreshness.of(file: shortLived, now: Date()).nextUpdate)
        #expect(CRLFreshness.of(file: shortLived, now: next.addingTimeInterval(-1)) == .fresh(nextUpdate: next))
        #expect(CRLFreshness.of(file: shortLived, now: next) == .stale(nextUpdate: next))
        #expect(CRLFreshness.of(file: Repository.pki.appendingPathComponent("gp.pem"), now: Date()) == .unreadable)
        #expect(CRLFreshness.of(file: folder.appendingPathComponent("missing.pem"), now: Date()) == .unreadable)
    }

    @Test func aNewCRLFileIsTakenWithoutARestart() async throws {
        let centre = try ServeTests.Centre()
        let crl = centre.rig.folder.appendingPathComponent("crl.pem")
        try FileManager.default.copyItem(at: Repository.pki.appendingPathComponent("crl.pem"), to: crl)
        try Self.setCRL(centre.rig, to: crl.path)
        try await centre.start()
        let metrics = try centre.get("/metrics").body
        #expect(metrics.contains("koerier_crl_seconds_until_next_update"), "\(metrics)")
        #expect(!centre.log.contains("the CRL file changed"))
        // Cron puts a fresh CRL down (written, then renamed over the old one).
        let fresh = centre.rig.folder.appendingPathComponent("crl.pem.new")
        try (try Data(contentsOf: crl) + Data("\n".utf8)).write(to: fresh)
        _ = rename(fresh.path, crl.path)
        try await Polling.until("the gateway to reload its trust") {
            centre.log.contains("the CRL file changed: reloading trust") && centre.log.contains("reloaded: configuration")
        }
    }

    /// A gateway whose CRLs cannot vouch for a signer (none for its issuer here; a CRL past
    /// its nextUpdate fails the same way in OpenSSL) answers "later", stores nothing and
    /// rejects nothing: the fault is its own. Once the CRL is renewed the same letter is
    /// accepted.
    @Test func aLetterWhoseSignerOurCRLsCannotVouchForIsAnsweredLaterNotRejected() throws {
        let rig = try DeliveryRig()
        let (letter, centre, client) = try rig.centreLetter()
        let request = InboundRequest(body: try centre.signedXML(.returnLetter(letter)), clientCertificateDER: client)

        let foreignCRL = try Self.shortLivedCRL(in: rig.folder)
        let (withoutCRL, store) = try rig.receivingGateway(as: "gp", crl: foreignCRL)
        let later = withoutCRL.answer(request)
        #expect(later.status == 503 && later.retryAfter != nil, "\(later.status) \(String(decoding: later.body, as: UTF8.self))")
        #expect(try store.inboundCounts().values.reduce(0, +) == 0)
        #expect(try store.issuedReceipt(for: letter.envelope.messageID.value) == nil)
        let refusal = try store.auditEntries(limit: 10).first { $0.event.outcome.contains("503 cannot check") }
        #expect(refusal?.event.messageID == letter.envelope.messageID.value)

        let renewed = try rig.receivingGateway(as: "gp").responder.answer(request)
        #expect(IdentityBindingTests.rejection(try IdentityBindingTests.receipt(in: renewed, rig: rig, signedBy: "90000123")) == nil)
        #expect(try store.inboundCounts().values.reduce(0, +) == 1)
    }

    /// The sender's side: a receipt whose signer its CRLs cannot vouch for leaves the letter
    /// queued to be sent again (the receiver answers a copy with its kept receipt), rather
    /// than settled without proof; with the CRL renewed the letter ends acknowledged.
    @Test func aReceiptOurCRLsCannotVouchForIsCheckedAgainAtTheNextAttempt() async throws {
        let rig = try DeliveryRig()
        let received = try await HTTPSDeliveryTests.receivingGP(rig)
        try Self.setCRL(rig, to: try Self.shortLivedCRL(in: rig.folder).path)
        try rig.reloadConfiguration()
        let queued = try rig.enqueue(HTTPSDeliveryTests.letter, to: "gp-de-linde", type: .huisarts)
        _ = try await rig.worker().deliverDue()
        let waiting = try #require(try rig.store.record(queued.id))
        #expect(waiting.state == .retrying, "\(waiting.state) \(waiting.lastError ?? "")")
        #expect(waiting.lastError?.contains("cannot be checked now") == true, "\(waiting.lastError ?? "")")

        try Self.setCRL(rig, to: rig.pki.appendingPathComponent("crl.pem").path)
        try rig.reloadConfiguration()
        try await HTTPSDeliveryTests.waitUntilDue(rig, queued.id)
        _ = try await rig.worker().deliverDue()
        #expect(try rig.store.record(queued.id)?.state == .acknowledged)
        #expect(received.all.count == 2)
    }
}
