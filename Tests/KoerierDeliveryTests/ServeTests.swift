import Foundation
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierServer
import KoerierTestSupport
import KoerierXML
import Testing

/// `koerier serve` as a real process: intake over mutual TLS, the drop folder, the admin
/// port, phase letters, and a clean stop on SIGTERM.
@Suite(.serialized, .ownThreads) struct ServeTests {
    /// A centre gateway in a temporary folder, started with `koerier serve` on ports its
    /// kernel chooses (read back from its log).
    final class Centre: @unchecked Sendable {
        let rig: DeliveryRig
        private(set) var port = 0
        private(set) var admin = 0
        var process: Process?
        var config: String { rig.folder.appendingPathComponent("koerier.yaml").path }

        /// `gpPort`: where the referring GP's gateway listens (default: a port that refuses).
        /// `delivery`: indented lines replacing delivery defaults (`  key: value`).
        /// `recipients`: the directory's entries instead of the GP alone.
        init(extra: String = "", gpPort: Int? = nil, delivery: String = "", recipients: String? = nil) throws {
            rig = try DeliveryRig()
            try rig.configure(
                recipients: try recipients ?? HTTPSDeliveryTests.gp(port: try gpPort ?? rig.downPort()),
                delivery: delivery + """
                    serve:
                      listen: "127.0.0.1:0"
                      admin: "127.0.0.1:0"
                      inbox: inbox
                    \(extra)
                    """)
        }

        /// A gateway for a rig configured by the caller (its own identity, listen address).
        init(rig: DeliveryRig) { self.rig = rig }

        deinit {
            if let process, process.isRunning { process.terminate() }
        }

        func start() async throws {
            let log = rig.folder.appendingPathComponent("serve.log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ProcessRunner.koerierBinary)
            process.arguments = ["serve", "--config", config]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: log)
            try process.run()
            self.process = process
            try await Polling.until("serve to report its ports") {
                if !process.isRunning { throw DeliveryFailure("serve exited: \(self.log)") }
                guard let intake = Self.port(in: self.log, after: "intake listening"),
                    let admin = Self.port(in: self.log, after: "admin listening")
                else { return false }
                (self.port, self.admin) = (intake, admin)
                return true
            }
            try await Polling.until("serve to answer /health") { (try? self.get("/health"))?.status == 200 }
        }

        /// The port a "... listening" log line names (text or JSON log lines).
        static func port(in log: String, after marker: String) -> Int? {
            guard let line = log.split(separator: "\n").first(where: { $0.contains(marker) }),
                let match = line.firstMatch(of: /port"?[=:] *"?([0-9]+)/)
            else { return nil }
            return Int(match.1)
        }

        var log: String { (try? String(contentsOf: rig.folder.appendingPathComponent("serve.log"), encoding: .utf8)) ?? "" }

        /// curl as an independent HTTP client.
        func get(_ path: String) throws -> (status: Int, body: String) {
            try curl(["http://127.0.0.1:\(admin)\(path)"])
        }

        /// The control socket `serve` makes next to its configuration (serve.control_socket's default).
        var controlSocket: String { rig.folder.appendingPathComponent("var/control.sock").path }

        /// A phase completion over the control socket, as ops would send it with curl.
        func postPhase(_ trajectory: Int, _ phase: String, report: URL, amend: Bool = false, onBehalfOf: String? = nil) throws -> (
            status: Int, body: String
        ) {
            try curl(
                [
                    "--unix-socket", controlSocket, "-H", "Content-Type: application/json", "-X", "POST", "--data-binary",
                    "@\(report.path)",
                    "http://localhost/v1/trajectories/\(trajectory)/phases?phase=\(phase)\(amend ? "&amend=true" : "")",
                ] + (onBehalfOf.map { ["-H", "On-Behalf-Of: \($0)"] } ?? []))
        }

        /// The same POST to the loopback admin port, which no longer takes state changes.
        func postPhaseToAdminPort(_ trajectory: Int, _ phase: String, report: URL) throws -> (status: Int, body: String) {
            try curl([
                "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@\(report.path)",
                "http://127.0.0.1:\(admin)/v1/trajectories/\(trajectory)/phases?phase=\(phase)",
            ])
        }

        /// POSTs a message to the intake with a party's client certificate.
        func post(_ message: Data, as party: String) throws -> (status: Int, body: String) {
            let file = rig.folder.appendingPathComponent("post-\(UUID().uuidString).xml")
            try message.write(to: file)
            return try curl([
                "--cacert", Repository.pki.appendingPathComponent("ca.pem").path,
                "--cert", try rig.chainFile(party).path, "--key", Repository.pki.appendingPathComponent("\(party).key").path,
                "--data-binary", "@\(file.path)", "https://localhost:\(port)/v1/messages",
            ])
        }

        /// Connecting without a client certificate: curl's exit code.
        func connectWithoutClientCertificate() throws -> Int32 {
            try ProcessRunner.run(
                "/usr/bin/curl",
                [
                    "-s", "--cacert", Repository.pki.appendingPathComponent("ca.pem").path, "--data-binary", "x",
                    "https://localhost:\(port)/v1/messages",
                ]
            ).exitCode
        }

        /// The audit entries (newest first) through the CLI, as JSON objects.
        func audit() throws -> [[String: Any]] {
            let result = try ProcessRunner.koerier(["audit", "list", "--limit", "1000", "--json", "--config", config])
            return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] ?? []
        }

        func curl(_ arguments: [String]) throws -> (status: Int, body: String) {
            let result = try ProcessRunner.run("/usr/bin/curl", ["-s", "--max-time", "30", "-w", "\n%{http_code}"] + arguments)
            var lines = result.stdout.components(separatedBy: "\n")
            let status = Int(lines.popLast() ?? "") ?? 0
            return (status, lines.joined(separator: "\n"))
        }
    }

    /// `openssl s_client` offering exactly one TLS version (and, for 1.1, the old suites
    /// OpenSSL 3 hides), or with `cipher` only that suite: whether the handshake completed.
    static func handshakes(port: Int, version: String, cipher: String = "DEFAULT", certificate: URL? = nil, key: URL? = nil) throws -> Bool
    {
        var arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-\(version)", "-cipher", "\(cipher)@SECLEVEL=0"]
        if let certificate, let key { arguments += ["-cert", certificate.path, "-key", key.path] }
        let result = try ProcessRunner.run("/usr/bin/openssl", arguments)
        return result.stdout.contains("Cipher is ") && !result.stdout.contains("Cipher is (NONE)")
    }

    /// `openssl s_server` on a free loopback port with `options` (a control peer: what it
    /// accepts, this machine's OpenSSL can speak); the process (kill it) and its port. A start that
    /// fails (s_server exits, or is not listening within 20 s on a loaded machine) is tried
    /// again, twice; what s_server said each time is in the error if none listens.
    static func opensslServer(_ options: [String], certificate: URL, key: URL) async throws -> (Process, Int) {
        var failures: [String] = []
        for _ in 0..<3 {
            // Never the test runner's own output: a server left behind would hold swift-test's
            // pipe open, and swift-test would wait for it forever. Its complaints go to a file.
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("koerier-s_server-\(UUID().uuidString).log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            defer { try? FileManager.default.removeItem(at: log) }
            let server = Process()
            server.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            server.arguments = ["s_server", "-accept", "127.0.0.1:0"] + options + ["-cert", certificate.path, "-key", key.path]
            server.standardOutput = FileHandle.nullDevice
            server.standardError = try FileHandle(forWritingTo: log)
            server.standardInput = Pipe()
            try server.run()
            // s_server buffers what it prints when it is not on a terminal: its port comes from /proc.
            var port = 0
            try? await Polling.until("openssl s_server to listen") {
                port = ListeningPorts.of(pid: server.processIdentifier).first ?? 0
                return port != 0 || !server.isRunning
            }
            if port != 0 { return (server, port) }
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
            let said = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            failures.append("exit \(server.terminationStatus): \(said.suffix(400))")
        }
        throw ServerStartFailure(description: "openssl s_server did not listen in three starts: \(failures.joined(separator: " | "))")
    }

    static let referral = Repository.signedSamples.appendingPathComponent("referral-huisarts-rsa.xml")
    static let reports = Repository.samples.appendingPathComponent("phase-reports")

    static func gpSigning(_ codec: MessageCodec) throws -> MessageSigning {
        MessageSigning(
            codec: codec,
            signer: Signer(
                identity: try SigningIdentity(
                    keyFile: Repository.pki.appendingPathComponent("gp.key"),
                    certificateFile: Repository.pki.appendingPathComponent("gp.pem"),
                    chainFile: Repository.pki.appendingPathComponent("chain.pem"))))
    }

    /// The peer helper itself: an s_server that cannot start is reported with what it said,
    /// not as a silent wait.
    @Test func anOpensslServerThatCannotStartSaysWhy() async throws {
        do {
            _ = try await Self.opensslServer(
                ["-no-such-option"], certificate: Repository.pki.appendingPathComponent("gp.pem"),
                key: Repository.pki.appendingPathComponent("gp.key"))
            Issue.record("s_server started with an unknown option")
        } catch let failure as ServerStartFailure {
            #expect(failure.description.contains("no-such-option"), "\(failure)")
        }
    }

    @Test func intakeStoresVerifiesAndAnswersWithSignedReceipts() async throws {
        let centre = try Centre()
        try await centre.start()
        let referral = try Data(contentsOf: Self.referral)
        let referralID = try centre.rig.codec.decode(referral).envelope.messageID

        let first = try centre.post(referral, as: "gp")
        #expect(first.status == 200 && first.body.contains("<Accepted"), "\(first.body)")
        let receipt = try centre.rig.codec.decodeKeepingDocument(Data(first.body.utf8))
        guard case .receipt(let answer) = receipt.message else {
            Issue.record("not a receipt")
            return
        }
        try ReceiptMatch.require(answer, answers: referral, messageID: referralID)
        let verifier = SignatureVerifier(trust: try TrustStore(anchorsFile: Repository.pki.appendingPathComponent("ca.pem")))
        #expect(try verifier.verify(receipt.document).careIdentifier == "90000456")
        #expect(try centre.rig.store.trajectories(limit: 5).count == 1)
        #expect(try centre.rig.store.trajectory(1)?.referrerRecipientID == "gp-de-linde")

        // A duplicate gets the original receipt back, byte for byte, and both transmissions are on record.
        #expect(try centre.post(referral, as: "gp").body == first.body)
        #expect(try centre.rig.store.trajectories(limit: 5).count == 1)
        let receives = try centre.audit().filter { $0["event"] as? String == "receive" && $0["message_id"] as? String == referralID.value }
        #expect(receives.count == 2, "\(receives)")
        #expect(receives.contains { ($0["outcome"] as? String)?.hasPrefix("duplicate") == true })

        // Unsigned, or altered: refused.
        let unsigned = try centre.post(try Data(contentsOf: Repository.samples.appendingPathComponent("referral-huisarts.xml")), as: "gp")
        #expect(unsigned.body.contains("<Rejected") && unsigned.body.contains("signature-invalid"), "\(unsigned.body)")
        let tampered = try centre.post(referral.replacingOccurrences(of: "Sanne", with: "Sarah"), as: "gp")
        #expect(tampered.body.contains("<Rejected") && tampered.body.contains("signature-invalid"), "\(tampered.body)")
        // A new referral, validly signed by the GP, but posted by another party's TLS client.
        guard case .referral(var another) = try centre.rig.codec.decode(referral) else {
            Issue.record("not a referral")
            return
        }
        another.envelope.messageID = .generate()
        let gp = try Self.gpSigning(centre.rig.codec)
        let signedAnother = try gp.signedXML(.referral(another))
        let impostor = try centre.post(signedAnother, as: "arbo")
        #expect(impostor.body.contains("<Rejected") && impostor.body.contains("sender-mismatch"), "\(impostor.body)")
        #expect(try centre.post(signedAnother, as: "gp").body.contains("<Accepted"))
        #expect(try centre.rig.store.trajectories(limit: 5).count == 2)

        // The same id with other bytes, validly signed by the same GP: 409, nothing stored.
        var altered = another
        altered.core.question = "Graag begeleiding, nu met spoed."
        let conflict = try centre.post(try gp.signedXML(.referral(altered)), as: "gp")
        #expect(conflict.status == 409 && conflict.body.contains("already used for another message"), "\(conflict.status) \(conflict.body)")

        // Validly signed by the GP, but addressed to another organisation than this gateway.
        var misaddressed = another
        misaddressed.envelope.messageID = .generate()
        misaddressed.envelope.receiver.ura = try URANumber("90000789")
        let elsewhere = try centre.post(try gp.signedXML(.referral(misaddressed)), as: "gp")
        #expect(elsewhere.body.contains("<Rejected") && elsewhere.body.contains("unknown-receiver"), "\(elsewhere.body)")
        #expect(try centre.rig.store.trajectories(limit: 5).count == 2)

        // Mutual TLS is required.
        #expect(try centre.connectWithoutClientCertificate() != 0)
        let garbage = try centre.post(Data("hello".utf8), as: "gp")
        #expect(garbage.status == 400 && garbage.body.contains("not a valid Koerier message"))
        #expect(try centre.rig.store.trajectories(limit: 5).count == 2)
        // Every refusal is in the audit log, which holds.
        let refusals = try centre.rig.store.auditEntries(limit: 100).filter { $0.event.outcome.hasPrefix("refused") }
        #expect(refusals.count >= 6)
        #expect(try centre.rig.store.verifyAudit() == nil)
        // No patient data in the log.
        #expect(!centre.log.contains("999990019") && !centre.log.contains("Sanne"))
    }

    @Test func intakeRefusesTLS11ThatThisMachineCanSpeak() async throws {
        let centre = try Centre()
        try await centre.start()
        let certificate = try centre.rig.chainFile("gp")
        let key = Repository.pki.appendingPathComponent("gp.key")
        // The control: this OpenSSL, offering TLS 1.1 only, completes a handshake with a
        // server that allows it, so a refusal below comes from Koerier's side.
        let (server, control) = try await Self.opensslServer(
            ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"], certificate: certificate, key: key)
        defer { kill(server.processIdentifier, SIGKILL) }
        #expect(try Self.handshakes(port: control, version: "tls1_1"), "the TLS 1.1 control did not handshake")

        #expect(try Self.handshakes(port: centre.port, version: "tls1_1", certificate: certificate, key: key) == false)
        #expect(try Self.handshakes(port: centre.port, version: "tls1_2", certificate: certificate, key: key))
    }

    @Test func intakeAnswersOnlyAfterTheMessageIsOnDisk() async throws {
        let centre = try Centre()
        try await centre.start()
        let pid = try #require(centre.process).processIdentifier
        // Every fsync/fdatasync of the running daemon (all its threads) now fails.
        let strace = Process()
        strace.executableURL = URL(fileURLWithPath: "/usr/bin/strace")
        strace.arguments = ["-f", "-qq", "-e", "trace=fsync,fdatasync", "-e", "inject=fsync,fdatasync:error=EIO", "-p", "\(pid)"]
        let straceLog = Pipe()
        strace.standardError = straceLog
        strace.standardOutput = FileHandle.nullDevice
        try strace.run()
        // strace prints nothing until a traced call: wait until the kernel names it the tracer.
        try await Polling.until("strace to attach") {
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            return status.contains("TracerPid:\t\(strace.processIdentifier)")
        }
        let failed = try centre.post(try Data(contentsOf: Self.referral), as: "gp")
        // SIGKILL: the test runner's blocked signals are inherited, so strace may not see
        // SIGINT or SIGTERM; its death detaches the daemon, which goes on untraced.
        kill(strace.processIdentifier, SIGKILL)
        strace.waitUntilExit()
        let traced = String(decoding: straceLog.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(traced.contains("EIO"), "no flush was attempted: \(traced)")
        #expect(failed.status == 503 && !failed.body.contains("<Accepted"), "\(failed.status) \(failed.body)\n\(centre.log)")

        // The disk works again: the same message is accepted now.
        let accepted = try centre.post(try Data(contentsOf: Self.referral), as: "gp")
        #expect(accepted.status == 200 && accepted.body.contains("<Accepted"), "\(accepted.body)")
    }

    @Test func phaseLettersAreRefusedWhenIncompleteAndSentOnceUnlessAmended() async throws {
        let centre = try Centre()
        try await centre.start()
        #expect(try centre.post(try Data(contentsOf: Self.referral), as: "gp").status == 200)

        // Missing data and an out-of-range score: refused, nothing queued.
        let broken = centre.rig.folder.appendingPathComponent("broken.json")
        var report =
            try JSONSerialization.jsonObject(with: Data(contentsOf: Self.reports.appendingPathComponent("fase-1.json"))) as! [String: Any]
        report.removeValue(forKey: "advice_to_referrer")
        try JSONSerialization.data(withJSONObject: report).write(to: broken)
        let missing = try centre.postPhase(1, "fase-1", report: broken)
        #expect(missing.status == 422 && missing.body.contains("adviceToReferrer is missing"), "\(missing.body)")
        report["advice_to_referrer"] = "Graag vervolgen."
        var measurements = report["measurements"] as! [String: Any]
        measurements["phq9"] = ["measured_on": "2026-11-20", "total": 99]
        report["measurements"] = measurements
        try JSONSerialization.data(withJSONObject: report).write(to: broken)
        let outOfRange = try centre.postPhase(1, "fase-1", report: broken)
        #expect(outOfRange.status == 422 && outOfRange.body.contains("nothing queued"), "\(outOfRange.body)")
        #expect(try centre.rig.store.records(state: nil, recipientType: nil, since: nil, limit: 10).isEmpty)

        // Complete: queued for the referrer, found in the directory.
        let done = try centre.postPhase(1, "fase-1", report: Self.reports.appendingPathComponent("fase-1.json"))
        #expect(done.status == 201 && done.body.contains("gp-de-linde"), "\(done.body)")
        let again = try centre.postPhase(1, "fase-1", report: Self.reports.appendingPathComponent("fase-1.json"))
        #expect(again.status == 409 && again.body.contains("already completed"))
        let amended = try ProcessRunner.koerier([
            "phase", "complete", "1", "--phase", "fase-1", "--amend", "--config", centre.config,
            "--report", Self.reports.appendingPathComponent("fase-1.json").path,
        ])
        #expect(amended.exitCode == 0 && amended.stdout.contains("correction"), "\(amended.stderr)")
        let records = try centre.rig.store.records(state: nil, recipientType: nil, since: nil, limit: 10)
        #expect(records.count == 2)
        // The correction says which letter it corrects.
        let correction = try centre.rig.codec.decode(
            try centre.rig.store.payload(of: records.map(\.id).max()!, now: Date(), context: DeliveryRig.context))
        guard case .returnLetter(let letter) = correction else {
            Issue.record("not a letter")
            return
        }
        #expect(letter.envelope.documentKind == .terugkoppelingCorrectie && letter.corrects != nil)
        #expect(
            letter.envelope.receiver.ura?.value == "90000123" && letter.envelope.inReplyTo?.value == "3f1c2a9e-5b7d-4e21-9a0c-7d1e2f3a4b5c")
    }

    /// Writes a file into the drop folder the way an export should: under another name, then renamed.
    static func drop(_ source: URL, into inbox: URL, as name: String) throws {
        let partial = inbox.appendingPathComponent(".\(name).part")
        try Data(contentsOf: source).write(to: partial)
        try FileManager.default.moveItem(at: partial, to: inbox.appendingPathComponent(name))
    }

    @Test func theDropFolderTakesGoodFilesAndExplainsBadOnes() async throws {
        let centre = try Centre()
        try await centre.start()
        let inbox = centre.rig.folder.appendingPathComponent("inbox")
        try Data("half a file".utf8).write(to: inbox.appendingPathComponent("incoming.part"))
        try Self.drop(Self.referral, into: inbox, as: "referral.xml")
        try Self.drop(Repository.invalidSamples.appendingPathComponent("bsn-elfproef.xml"), into: inbox, as: "bad.xml")
        let rejection = inbox.appendingPathComponent("rejected/bad.xml.error")
        try await Polling.until("both files handled") {
            try centre.rig.store.trajectories(limit: 5).count == 1 && FileManager.default.fileExists(atPath: rejection.path)
        }
        let error = try String(contentsOf: rejection, encoding: .utf8)
        #expect(error.contains("bad.xml:") && error.contains("[bsn-elfproef]"), "\(error)")
        // Stored (encrypted) by the intake, the plaintext file is gone: nowhere in the folder.
        #expect(!FileManager.default.fileExists(atPath: inbox.appendingPathComponent("referral.xml").path))
        #expect(!FileManager.default.fileExists(atPath: inbox.appendingPathComponent("processed").path))
        #expect(FileManager.default.fileExists(atPath: inbox.appendingPathComponent("incoming.part").path))
        #expect(try centre.rig.store.trajectories(limit: 5).count == 1)
    }

    @Test func healthMetricsAndACleanStopOnSIGTERM() async throws {
        let centre = try Centre()
        try await centre.start()
        #expect(try centre.get("/health").body.contains("\"status\":\"ok\""))
        #expect(try centre.post(try Data(contentsOf: Self.referral), as: "gp").status == 200)
        #expect(try centre.postPhase(1, "intake", report: Self.reports.appendingPathComponent("intake.json")).status == 201)
        // Nothing listens for the GP: the letter is retried, which the metrics show.
        var metrics = ""
        try await Polling.until("the letter to be retrying in /metrics") {
            metrics = try centre.get("/metrics").body
            return metrics.contains("koerier_queue_depth{state=\"retrying\"} 1")
        }
        #expect(
            metrics.contains("koerier_delivery_failures_total") && metrics.contains("koerier_inbound_messages{state=\"processed\"} 1"))

        let process = try #require(centre.process)
        kill(process.processIdentifier, SIGTERM)
        try await Polling.until("serve to exit") { !process.isRunning }
        #expect(process.terminationStatus == 0, "\(centre.log)")
        #expect(centre.log.contains("stopped cleanly"))
    }

    /// SIGHUP reads the configuration, directory, keys and trust again: a practice that moved
    /// gets its waiting letter at the new address; a broken directory is refused and the
    /// running one stays.
    @Test func sighupReloadsTheDirectoryAndABrokenOneChangesNothing() async throws {
        let gpSide = try DeliveryRig()
        let (responder, gpStore) = try gpSide.receivingGateway(as: "gp")
        let livePort = try await gpSide.startListener(as: "gp") { await responder.respond($0) }
        let centre = try Centre()  // the GP's old address refuses connections
        try await centre.start()
        let process = try #require(centre.process)
        let record = try centre.rig.enqueue("return-letter-fase-2-rsa.xml", to: "gp-de-linde", type: .huisarts)
        try await Polling.until("the first attempt to fail") { try centre.rig.store.record(record.id)?.state == .retrying }

        let directory = centre.rig.folder.appendingPathComponent("recipients.yaml")
        try "recipients:\n\(HTTPSDeliveryTests.gp(port: livePort))".write(to: directory, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        try await Polling.until("the reload") { centre.log.contains("reloaded: configuration") }
        try await Polling.until("the letter to reach the new address") { try centre.rig.store.record(record.id)?.state == .acknowledged }
        #expect(try gpStore.inbound(state: nil, limit: 10).count == 1)

        try "recipients: [".write(to: directory, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        try await Polling.until("the refusal") { centre.log.contains("reload refused") }
        let health = try centre.get("/health").status
        #expect(process.isRunning && health == 200)
    }

    /// The certificate the intake listener presents to a client (openssl s_client with the GP's).
    static func serverCertificate(port: Int) throws -> Data? {
        let pki = Repository.pki
        let result = try ProcessRunner.run(
            "/usr/bin/openssl",
            [
                "s_client", "-connect", "127.0.0.1:\(port)", "-cert", pki.appendingPathComponent("gp.pem").path, "-key",
                pki.appendingPathComponent("gp.key").path,
            ])
        return Certificate.loadPEM(Data(result.stdout.utf8)).first?.der
    }

    /// SIGHUP reaches the listener's own certificate and key too: the next handshake
    /// presents the new ones, without a restart.
    @Test func sighupGivesTheListenerItsNewCertificate() async throws {
        let centre = try Centre()
        try await centre.start()
        let process = try #require(centre.process)
        func certificate(_ party: String) throws -> Data? {
            Certificate.loadPEM(try Data(contentsOf: Repository.pki.appendingPathComponent("\(party).pem"))).first?.der
        }
        #expect(try Self.serverCertificate(port: centre.port) == (try certificate("centre")))

        let file = URL(fileURLWithPath: centre.config)
        let pki = Repository.pki
        let chainLine = "  chain: \(pki.appendingPathComponent("chain.pem").path)\n"
        let text = try String(contentsOf: file, encoding: .utf8)
        let range = try #require(text.range(of: chainLine))
        try text.replacingCharacters(
            in: range,
            with: chainLine + "  tls:\n    key: \(pki.appendingPathComponent("centre-ec.key").path)\n"
                + "    certificate: \(pki.appendingPathComponent("centre-ec.pem").path)\n    chain: \(pki.appendingPathComponent("chain.pem").path)\n"
        ).write(to: file, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        try await Polling.until("the reload") { centre.log.contains("reloaded: configuration") }
        #expect(try Self.serverCertificate(port: centre.port) == (try certificate("centre-ec")), "\(centre.log)")
    }

    @Test func aSecondDaemonOnTheSameStoreRefusesToStart() async throws {
        let centre = try Centre()
        try await centre.start()
        let first = try #require(centre.process)
        for command in [["serve"], ["deliver", "--once"]] {
            let second = try ProcessRunner.koerier(command + ["--config", centre.config])
            #expect(second.exitCode != 0)
            #expect(second.stderr.contains("another Koerier daemon (serve, pid \(first.processIdentifier))"), "\(second.stderr)")
        }
        let health = try centre.get("/health").status
        #expect(first.isRunning && health == 200)
    }

    /// On a shared store a daemon's instance name names its leases: a second `serve` under
    /// the same name would put back the first one's leases at its start (and those letters
    /// would go twice). It refuses; the first goes on.
    @Test func aSecondServeUnderTheSameInstanceNameOnASharedStoreRefusesToStart() async throws {
        let url = try TestPostgres.freshDatabase()
        let first = try ClusterChaosTests.daemon("twin", url: url, gpPort: try DeliveryRig().downPort(), keysFrom: nil)
        try await first.start()
        let running = try #require(first.process)
        let second = try ClusterChaosTests.daemon("twin", url: url, gpPort: 9, keysFrom: first.rig)
        // Bounded: a second daemon that did start would otherwise run on.
        let refused = try ProcessRunner.run(
            "/usr/bin/timeout", ["30", ProcessRunner.builtExecutable("koerier"), "serve", "--config", second.config])
        #expect(refused.exitCode != 0 && refused.exitCode != 124, "\(refused.exitCode) \(refused.stderr)")
        #expect(refused.stderr.contains("another Koerier daemon runs as serve@twin"), "\(refused.stderr)")
        let health = try first.get("/health").status
        #expect(running.isRunning && health == 200)
        // Another name is welcome.
        let other = try ClusterChaosTests.daemon("twin-2", url: url, gpPort: 9, keysFrom: first.rig)
        try await other.start()
        #expect(other.process?.isRunning == true)
    }

    /// A partner down, its lane's circuit open, and nothing left due for it (the letter went
    /// dead at its only attempt): once the probe time has passed the daemon idles until
    /// something is due. It used to look again at once, and again, spinning a core for as long
    /// as the lane had nothing due (found as test daemons left running at 100%).
    @Test func aLaneWhoseProbeTimePassedWithNothingDueLeavesTheDaemonIdle() async throws {
        let centre = try Centre(delivery: "  circuit_failures: 1\n  first_retry_seconds: 1\n  max_retry_seconds: 1\n  max_attempts: 1\n")
        _ = try centre.rig.enqueue("return-letter-fase-2-rsa.xml", to: "gp-de-linde", type: .huisarts)
        try await centre.start()
        let process = try #require(centre.process)
        try await Polling.until("the letter to be dead") { try centre.rig.store.counts().contains { $0.state == .dead } }
        try await Task.sleep(nanoseconds: 2_000_000_000)  // past the probe time, 1 s after the failure
        let before = try Self.processorSeconds(process.processIdentifier)
        try await Task.sleep(nanoseconds: 4_000_000_000)
        let used = try Self.processorSeconds(process.processIdentifier) - before
        #expect(used < 1.0, "serve used \(used) s of processor time in 4 s with nothing to do")
    }

    /// User plus system time of a process so far (/proc/PID/stat, fields 14 and 15).
    static func processorSeconds(_ pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let afterName = stat[try #require(stat.lastIndex(of: ")"))...].split(separator: " ")
        let ticks = try #require(Double(afterName[12])) + (try #require(Double(afterName[13])))
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test func aTransferInFlightFinishesOnSIGTERM() async throws {
        // A GP gateway that takes its time: it answers two seconds after the letter arrived.
        let arrived = Received()
        let rig = try DeliveryRig()
        let responder = try rig.receiptingResponder(as: "gp", received: Received())
        let gpPort = try await rig.startListener(as: "gp") { request in
            arrived.add(request.body)
            try? await Task.sleep(nanoseconds: 2_000_000_000)
            return await responder.respond(request)
        }
        let centre = try Centre(gpPort: gpPort)
        try await centre.start()
        #expect(try centre.post(try Data(contentsOf: Self.referral), as: "gp").status == 200)
        #expect(try centre.postPhase(1, "intake", report: Self.reports.appendingPathComponent("intake.json")).status == 201)
        try await Polling.until("the letter to reach the slow GP") { !arrived.all.isEmpty }

        let process = try #require(centre.process)
        kill(process.processIdentifier, SIGTERM)
        try await Polling.until("serve to exit") { !process.isRunning }
        #expect(process.terminationStatus == 0, "\(centre.log)")
        // The transfer was not cut off: its receipt came back and settled the record.
        let records = try centre.rig.store.records(state: nil, recipientType: nil, since: nil, limit: 10)
        #expect(records.map(\.state) == [.acknowledged], "\(records.map(\.state))")
        #expect(arrived.all.count == 1)
    }
}

extension ServeTests {
    @Test func oversizedMessagesAreRefusedAndLogsAreJSONLinesWithoutPatientData() async throws {
        let centre = try Centre(extra: "  log_format: json\nlimits:\n  max_message_bytes: 4096")
        try await centre.start()
        let big = try centre.post(try Data(contentsOf: Self.referral), as: "gp")
        #expect(big.status == 413 && big.body.contains("larger than 4096 bytes"), "\(big.status) \(big.body)")
        #expect(try centre.rig.store.trajectories(limit: 5).isEmpty)
        let lines = centre.log.split(separator: "\n")
        #expect(lines.count >= 2)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["message"] != nil && object?["level"] != nil, "\(line)")
        }
        #expect(!centre.log.contains("999990019"))
    }

    @Test func tailShowsTheEventsWithoutContent() async throws {
        let centre = try Centre()
        try await centre.start()
        #expect(try centre.post(try Data(contentsOf: Self.referral), as: "gp").status == 200)
        let tail = try ProcessRunner.koerier(["tail", "--no-follow", "--lines", "5", "--config", centre.config])
        #expect(tail.exitCode == 0 && tail.stdout.contains("receive") && tail.stdout.contains("3f1c2a9e-5b7d-4e21-9a0c-7d1e2f3a4b5c"))
        #expect(tail.stdout.contains("trajectory opened") && !tail.stdout.contains("999990019"))
    }
}

extension Data {
    func replacingOccurrences(of target: String, with replacement: String) -> Data {
        Data(String(decoding: self, as: UTF8.self).replacingOccurrences(of: target, with: replacement).utf8)
    }
}

/// A peer tool that would not start, with what it said.
struct ServerStartFailure: Error, CustomStringConvertible {
    let description: String
}
