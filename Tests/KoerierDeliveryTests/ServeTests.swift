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
@Suite(.serialized) struct ServeTests {
    /// A centre gateway in a temporary folder, started with `koerier serve`.
    final class Centre: @unchecked Sendable {
        let rig: DeliveryRig
        let port = DeliveryRig.freePort()
        let admin = DeliveryRig.freePort()
        let gpPort = DeliveryRig.freePort()
        var process: Process?
        var config: String { rig.folder.appendingPathComponent("koerier.yaml").path }

        init(extra: String = "") throws {
            rig = try DeliveryRig()
            try rig.configure(
                recipients: HTTPSDeliveryTests.gp(port: gpPort),
                delivery: """
                    serve:
                      listen: "127.0.0.1:\(port)"
                      admin: "127.0.0.1:\(admin)"
                      inbox: inbox
                    \(extra)
                    """)
        }

        deinit {
            if let process, process.isRunning { process.terminate() }
        }

        func start() async throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ProcessRunner.koerierBinary)
            process.arguments = ["serve", "--config", config]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(
                forWritingTo: { () -> URL in
                    let log = rig.folder.appendingPathComponent("serve.log")
                    FileManager.default.createFile(atPath: log.path, contents: nil)
                    return log
                }())
            try process.run()
            self.process = process
            for _ in 0..<100 {
                if (try? get("/health"))?.status == 200 { return }
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            throw DeliveryFailure("serve did not start: \(log)")
        }

        var log: String { (try? String(contentsOf: rig.folder.appendingPathComponent("serve.log"), encoding: .utf8)) ?? "" }

        /// curl as an independent HTTP client.
        func get(_ path: String) throws -> (status: Int, body: String) {
            try curl(["http://127.0.0.1:\(admin)\(path)"])
        }

        func postPhase(_ trajectory: Int, _ phase: String, report: URL, amend: Bool = false) throws -> (status: Int, body: String) {
            try curl([
                "-X", "POST", "--data-binary", "@\(report.path)",
                "http://127.0.0.1:\(admin)/v1/trajectories/\(trajectory)/phases?phase=\(phase)\(amend ? "&amend=true" : "")",
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

        /// Connecting without a client certificate, or below TLS 1.2: curl's exit code.
        func connectWithout(_ extra: [String]) throws -> Int32 {
            try ProcessRunner.run(
                "/usr/bin/curl",
                ["-s", "--cacert", Repository.pki.appendingPathComponent("ca.pem").path] + extra
                    + ["--data-binary", "x", "https://localhost:\(port)/v1/messages"]
            ).exitCode
        }

        private func curl(_ arguments: [String]) throws -> (status: Int, body: String) {
            let result = try ProcessRunner.run("/usr/bin/curl", ["-s", "-w", "\n%{http_code}"] + arguments)
            var lines = result.stdout.components(separatedBy: "\n")
            let status = Int(lines.popLast() ?? "") ?? 0
            return (status, lines.joined(separator: "\n"))
        }
    }

    static let referral = Repository.signedSamples.appendingPathComponent("referral-huisarts-rsa.xml")
    static let reports = Repository.samples.appendingPathComponent("phase-reports")

    @Test func intakeStoresVerifiesAndAnswersWithSignedReceipts() async throws {
        let centre = try Centre()
        try await centre.start()
        let referral = try Data(contentsOf: Self.referral)

        let first = try centre.post(referral, as: "gp")
        #expect(first.status == 200 && first.body.contains("<Accepted"), "\(first.body)")
        let receipt = try centre.rig.codec.decodeKeepingDocument(Data(first.body.utf8))
        guard case .receipt(let answer) = receipt.message else {
            Issue.record("not a receipt")
            return
        }
        try ReceiptMatch.require(answer, answers: referral, messageID: try centre.rig.codec.decode(referral).envelope.messageID)
        let verifier = SignatureVerifier(trust: try TrustStore(anchorsFile: Repository.pki.appendingPathComponent("ca.pem")))
        #expect(try verifier.verify(receipt.document).careIdentifier == "90000456")
        // Stored before the answer: the trajectory exists, with the referral's consent.
        #expect(try centre.rig.store.trajectories(limit: 5).count == 1)
        #expect(try centre.rig.store.trajectory(1)?.referrerRecipientID == "gp-de-linde")

        // A duplicate gets the original receipt back, byte for byte.
        #expect(try centre.post(referral, as: "gp").body == first.body)
        #expect(try centre.rig.store.trajectories(limit: 5).count == 1)

        // The same id with other bytes (unsigned, or altered) is refused.
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
        let gp = MessageSigning(
            codec: centre.rig.codec,
            signer: Signer(
                identity: try SigningIdentity(
                    keyFile: Repository.pki.appendingPathComponent("gp.key"),
                    certificateFile: Repository.pki.appendingPathComponent("gp.pem"),
                    chainFile: Repository.pki.appendingPathComponent("chain.pem"))))
        let signedAnother = try gp.signedXML(.referral(another))
        let impostor = try centre.post(signedAnother, as: "arbo")
        #expect(impostor.body.contains("<Rejected") && impostor.body.contains("sender-mismatch"), "\(impostor.body)")
        #expect(try centre.post(signedAnother, as: "gp").body.contains("<Accepted"))
        #expect(try centre.rig.store.trajectories(limit: 5).count == 2)
        // Mutual TLS is required, and TLS 1.2 at least.
        #expect(try centre.connectWithout([]) != 0)
        #expect(
            try centre.connectWithout([
                "--tls-max", "1.1", "--cert", try centre.rig.chainFile("gp").path,
                "--key", Repository.pki.appendingPathComponent("gp.key").path,
            ]) != 0)
        let garbage = try centre.post(Data("hello".utf8), as: "gp")
        #expect(garbage.status == 400 && garbage.body.contains("not a valid Koerier message"))
        #expect(try centre.rig.store.trajectories(limit: 5).count == 2)
        // Every refusal is in the audit log, which holds.
        let refusals = try centre.rig.store.auditEntries(limit: 100).filter { $0.event.outcome.hasPrefix("refused") }
        #expect(refusals.count >= 4)
        #expect(try centre.rig.store.verifyAudit() == nil)
        // No patient data in the log.
        #expect(!centre.log.contains("999990019") && !centre.log.contains("Sanne"))
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

    @Test func theDropFolderTakesGoodFilesAndExplainsBadOnes() async throws {
        let centre = try Centre()
        try await centre.start()
        let inbox = centre.rig.folder.appendingPathComponent("inbox")
        try FileManager.default.copyItem(at: Self.referral, to: inbox.appendingPathComponent("referral.xml"))
        try FileManager.default.copyItem(
            at: Repository.invalidSamples.appendingPathComponent("bsn-elfproef.xml"),
            to: inbox.appendingPathComponent("bad.xml"))
        try Data("half a file".utf8).write(to: inbox.appendingPathComponent("incoming.part"))
        for _ in 0..<50 where !FileManager.default.fileExists(atPath: inbox.appendingPathComponent("rejected/bad.xml.error").path) {
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        let error = try String(contentsOf: inbox.appendingPathComponent("rejected/bad.xml.error"), encoding: .utf8)
        #expect(error.contains("bad.xml:") && error.contains("[bsn-elfproef]"), "\(error)")
        #expect(FileManager.default.fileExists(atPath: inbox.appendingPathComponent("processed/referral.xml").path))
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
        try await Task.sleep(nanoseconds: 1_500_000_000)
        let metrics = try centre.get("/metrics").body
        #expect(metrics.contains("koerier_queue_depth{state=\"retrying\"} 1"), "\(metrics)")
        #expect(metrics.contains("koerier_delivery_failures_total") && metrics.contains("koerier_inbound_messages{state=\"processed\"} 1"))

        let process = try #require(centre.process)
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<100 where process.isRunning { try await Task.sleep(nanoseconds: 100_000_000) }
        #expect(!process.isRunning && process.terminationStatus == 0, "\(centre.log)")
        #expect(centre.log.contains("stopped cleanly"))
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
