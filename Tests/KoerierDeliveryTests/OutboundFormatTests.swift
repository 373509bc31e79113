import Foundation
import KoerierConfig
import KoerierDelivery
import KoerierEDIFACT
import KoerierFHIR
import KoerierModel
import KoerierSecurity
import KoerierServer
import KoerierStore
import KoerierTestSupport
import Testing

/// Return letters in the formats GPs' record systems read, each checked by an independent
/// reader: MEDVRI by S/MIME mail (aiosmtpd, `openssl cms`, pydifact) and to an EDI folder,
/// and FHIR STU3 documents POSTed over mutual TLS (fhir.resources).
@Suite(.serialized, .ownThreads) struct OutboundFormatTests {
    static let ediSender = "500012345"
    static let ediRecipient = "500067890"

    static func medvriMail(port: Int, charset: String = "UNOA") -> String {
        """
          - id: gp-edi
            name: Huisartsenpraktijk De Linde
            type: huisarts
            ura: "90000123"
            format: medvri
            edi_address: "\(ediRecipient)"
            edi_charset: \(charset)
            smtp:
              to: 500067890@edi.zorgmail.test
              relay: 127.0.0.1
              port: \(port)
              relay_anchors: \(Repository.pki.appendingPathComponent("ca.pem").path)
              certificate: \(Repository.pki.appendingPathComponent("employer-smime.pem").path)

        """
    }

    static func medvriFolder(_ folder: URL) -> String {
        """
          - id: gp-edi
            name: Huisartsenpraktijk De Linde
            type: huisarts
            ura: "90000123"
            format: medvri
            edi_address: "\(ediRecipient)"
            folder: \(folder.path)

        """
    }

    static func fhirServer(port: Int) -> String {
        """
          - id: gp-fhir
            name: Huisartsenpraktijk De Linde
            type: huisarts
            ura: "90000123"
            format: fhir-stu3
            https:
              url: https://localhost:\(port)/fhir
              server_anchors: \(Repository.pki.appendingPathComponent("ca.pem").path)

        """
    }

    /// pydifact's reading of an interchange (Tests/Peers/medvri_parse.py): tags in order,
    /// each with its elements' components.
    static func pydifactSegments(_ interchange: Data, in folder: URL) async throws -> [(tag: String, elements: [[String]])] {
        let python = try await ProcessRunner.offPool { try PythonTool.ensure(package: "pydifact==0.2.3", module: "pydifact") }
        let file = folder.appendingPathComponent("letter-\(UUID().uuidString).edi")
        try interchange.write(to: file)
        let charset = interchange.starts(with: Data("UNB+UNOC".utf8)) ? "UNOC" : "UNOA"
        let parsed = try await ProcessRunner.runOffPool(
            python, [Repository.root.appendingPathComponent("Tests/Peers/medvri_parse.py").path, file.path, charset])
        try #require(parsed.exitCode == 0, "pydifact: \(parsed.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(parsed.stdout.utf8)) as? [String: Any])
        let segments = try #require(object["segments"] as? [[String: Any]])
        return segments.map { ($0["tag"] as? String ?? "", $0["elements"] as? [[String]] ?? []) }
    }

    /// The independent FHIR check (Tests/Peers/fhir_check.py: fhir.resources plus code
    /// checks) on each Bundle: the problems found, none when it passes.
    static func fhirProblems(_ bundles: [Data], in folder: URL) async throws -> [String] {
        let python = try await ProcessRunner.offPool { try PythonTool.ensure(package: "fhir.resources==8.3.0", module: "fhir.resources") }
        let files = try bundles.map { bundle -> String in
            let file = folder.appendingPathComponent("bundle-\(UUID().uuidString).json")
            try bundle.write(to: file)
            return file.path
        }
        let result = try await ProcessRunner.runOffPool(
            python, [Repository.root.appendingPathComponent("Tests/Peers/fhir_check.py").path] + files)
        try #require(result.exitCode == 0, "\(result.stderr)")
        let verdicts = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: [String]])
        try #require(verdicts.count == files.count)
        return verdicts.values.flatMap { $0 }
    }

    /// The letter the fase-2 sample holds, as the model.
    static func fase2Letter(_ rig: DeliveryRig) throws -> ReturnLetter {
        let bytes = try Data(contentsOf: Repository.signedSamples.appendingPathComponent("return-letter-fase-2-rsa.xml"))
        guard case .returnLetter(let letter) = try rig.codec.decode(bytes) else { throw DeliveryFailure("not a return letter") }
        return letter
    }

    @Test(arguments: ["UNOA", "UNOC"])
    func aMEDVRILetterGoesAsEncryptedSignedMailAndPydifactReadsIt(charset: String) async throws {
        let rig = try DeliveryRig()
        let sink = try rig.startSMTPSink()
        try rig.configure(recipients: Self.medvriMail(port: sink.port, charset: charset), delivery: "  edi_address: \"\(Self.ediSender)\"")
        let ids = try rig.enqueueLetters(1, to: "gp-edi", ediSender: Self.ediSender)
        let stored = try #require(try rig.store.records(state: .queued, recipientType: nil, since: nil, limit: 5).first)
        let payload = try rig.store.deliveryPayload(of: stored.id)
        // Decided at enqueue: the interchange itself is what the outbox holds.
        #expect(payload.starts(with: Data("UNB+\(charset):1+\(Self.ediSender)+\(Self.ediRecipient)+".utf8)))
        #expect(MEDVRICheck.problems(in: payload).isEmpty)

        #expect(try await rig.worker().deliverDue().handled[.delivered] == 1)
        let mails = rig.mails(in: sink.mailbox)
        try #require(mails.count == 1)
        #expect(rig.transcript(of: sink.mailbox) == ["MAIL tls=True", "DATA tls=True"])
        let raw = String(decoding: mails[0], as: UTF8.self)
        #expect(raw.contains("application/pkcs7-mime") && !raw.contains("UNH+"))
        let entity = try SMTPDeliveryTests.openMail(mails[0], in: rig.folder)
        #expect(entity.contains("Content-Type: application/EDIFACT; name=\"\(ids[0]).edi\""))
        let interchange = try SMTPDeliveryTests.attachment(of: entity)
        #expect(interchange == payload)

        let segments = try await Self.pydifactSegments(interchange, in: rig.folder)
        let tags = segments.map(\.tag)
        #expect(tags.first == "UNB" && tags.last == "UNZ")
        #expect(Array(tags.prefix(3)) == ["UNB", "UNH", "GGA"])
        #expect(tags.contains("PID") && tags.contains("GGO") && tags.filter { $0 == "TXT" }.count > 20)
        // pydifact's segments are ours: the same tags and element texts, in order.
        let ours = try EDIFACTReader.segments(interchange)
        #expect(ours.map(\.tag) == tags)
        let letter = try Self.fase2Letter(rig)
        let text = ours.filter { $0.tag == "TXT" }.map { $0.elements.first?.first ?? "" }.joined(separator: " ")
        let folded = text.uppercased()
        for fragment in ["4DKL", "PHQ-9", "HERSTELLENDE"] { #expect(folded.contains(fragment), "\(fragment) missing") }
        #expect(folded.contains(letter.patient.bsn.digits) || ours.contains { $0.tag == "PID" })
    }

    @Test func aMEDVRILetterForAnEDIFolderWaitsForItsFolderAndThenAppearsWholeWithItsQueuedBytes() async throws {
        let rig = try DeliveryRig()
        let outbox = rig.folder.appendingPathComponent("edi-out")
        try rig.configure(recipients: Self.medvriFolder(outbox), delivery: "  edi_address: \"\(Self.ediSender)\"")
        let ids = try rig.enqueueLetters(1, to: "gp-edi", ediSender: Self.ediSender)
        let record = try #require(try rig.store.records(state: .queued, recipientType: nil, since: nil, limit: 5).first)
        let payload = try rig.store.deliveryPayload(of: record.id)

        // No folder yet (an EDI client not set up, a disk not mounted): retried, not dead.
        #expect(try await rig.worker().deliverDue().handled[.retrying] == 1)
        let waiting = try #require(try rig.store.record(record.id))
        #expect(waiting.state == .retrying && (waiting.lastError ?? "").contains("cannot write"))

        try FileManager.default.createDirectory(at: outbox, withIntermediateDirectories: true)
        try await HTTPSDeliveryTests.waitUntilDue(rig, record.id)
        #expect(try await rig.worker().deliverDue().handled[.delivered] == 1)
        let names = try FileManager.default.contentsOfDirectory(atPath: outbox.path)
        #expect(names == ["\(ids[0]).edi"], "no temporary file is left behind: \(names)")
        let file = outbox.appendingPathComponent("\(ids[0]).edi")
        #expect(try Data(contentsOf: file) == payload)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int)
        #expect(mode & 0o007 == 0, "others may not read a letter: \(String(mode, radix: 8))")
        #expect(MEDVRICheck.problems(in: payload).isEmpty)
        _ = try await Self.pydifactSegments(payload, in: rig.folder)
    }

    @Test func aFHIRDocumentIsPostedOverMutualTLSAndCountsAsDeliveredOnlyWithALocation() async throws {
        let rig = try DeliveryRig()
        let received = Received()
        let port = try await rig.startListener(as: "gp", fhir: true) { request in
            received.add(request.body)
            #expect(request.contentType?.hasPrefix("application/fhir+json") == true)
            #expect(request.clientCertificateDER != nil)
            return ListenerAnswer(
                status: 201, body: Data(), contentType: "application/fhir+json",
                location: "https://localhost/fhir/Bundle/\(received.all.count)")
        }
        try rig.configure(recipients: Self.fhirServer(port: port))
        let ids = try rig.enqueueLetters(1, to: "gp-fhir")
        #expect(try await rig.worker().deliverDue().handled[.delivered] == 1)
        let record = try #require(try rig.store.records(state: .delivered, recipientType: nil, since: nil, limit: 5).first)
        #expect((record.lastError ?? "").contains("Location: https://localhost/fhir/Bundle/1"))
        try #require(received.all.count == 1)
        let bundle = received.all[0]
        #expect(bundle == (try rig.store.deliveryPayload(of: record.id)))
        let object = try #require(try JSONSerialization.jsonObject(with: bundle) as? [String: Any])
        #expect(object["resourceType"] as? String == "Bundle" && object["id"] as? String == ids[0])
        #expect(try await Self.fhirProblems([bundle], in: rig.folder).isEmpty)
    }

    @Test func aFHIRServerThatAnswersWithoutALocationHasNotTakenTheLetter() async throws {
        let rig = try DeliveryRig()
        let port = try await rig.startListener(as: "gp", fhir: true) { _ in
            ListenerAnswer(status: 200, body: Data("{}".utf8), contentType: "application/fhir+json")
        }
        try rig.configure(recipients: Self.fhirServer(port: port))
        try rig.enqueueLetters(1, to: "gp-fhir")
        #expect(try await rig.worker().deliverDue().handled[.dead] == 1)
        let record = try #require(try rig.store.records(state: .dead, recipientType: nil, since: nil, limit: 5).first)
        #expect((record.lastError ?? "").contains("without a Location header"))
    }

    @Test func aMessageAFormatCannotCarryIsBlockedWithTheReason() async throws {
        let rig = try DeliveryRig()
        let outbox = rig.folder.appendingPathComponent("edi-out")
        try FileManager.default.createDirectory(at: outbox, withIntermediateDirectories: true)
        try rig.configure(recipients: Self.medvriFolder(outbox), delivery: "  edi_address: \"\(Self.ediSender)\"")
        // A receipt addressed to the practice: its adapter would send it, MEDVRI cannot carry it.
        let sample = try Data(contentsOf: Repository.signedSamples.appendingPathComponent("receipt-rejected-rsa.xml"))
        guard case .receipt(var receipt) = try rig.codec.decode(sample) else { throw DeliveryFailure("not a receipt") }
        receipt.envelope.messageID = .generate()
        receipt.envelope.receiver = Party(
            type: .huisarts, organisation: "Huisartsenpraktijk De Linde", agb: try AGBCode("01012345"), ura: try URANumber("90000123"))
        let signing = MessageSigning(
            codec: rig.codec,
            signer: Signer(
                identity: try SigningIdentity(
                    keyFile: Repository.pki.appendingPathComponent("centre.key"),
                    certificateFile: Repository.pki.appendingPathComponent("centre.pem"),
                    chainFile: Repository.pki.appendingPathComponent("chain.pem"))))
        let recipient = try #require(try RecipientDirectory.load(file: rig.configuration.recipientsFile)["gp-edi"])
        let queue = LetterQueue(adapters: AdapterSet(signing: signing, formats: LetterFormatter(ediSender: Self.ediSender)))
        let outbound = try queue.outbound(
            .receipt(receipt), bytes: try signing.signedXML(.receipt(receipt)), to: recipient, urgency: .routine, clientReference: nil)
        #expect(outbound.prepared == nil, "nothing is prepared for a format that cannot carry it")
        let queued = try rig.store.enqueueBatch([outbound], now: Date(), context: DeliveryRig.context)
        _ = try await rig.worker().deliverDue()
        let record = try #require(try rig.store.record(queued[0].record.id))
        #expect(record.state == .blocked && (record.lastError ?? "").hasPrefix("format-unsupported"), "\(record.lastError ?? "")")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outbox.path).isEmpty)
    }

    @Test func aLetterQueuedInOneFormatIsNotSentInAnotherAfterTheDirectoryChanged() async throws {
        let rig = try DeliveryRig()
        let outbox = rig.folder.appendingPathComponent("edi-out")
        try rig.configure(recipients: Self.medvriFolder(outbox), delivery: "  edi_address: \"\(Self.ediSender)\"")
        try rig.enqueueLetters(1, to: "gp-edi", ediSender: Self.ediSender)
        // The practice moves to a FHIR server before the letter left: the queued MEDVRI is not posted there.
        let received = Received()
        let port = try await rig.startListener(as: "gp", fhir: true) { request in
            received.add(request.body)
            return ListenerAnswer(status: 201, body: Data(), location: "https://localhost/fhir/Bundle/1")
        }
        try rig.configure(
            recipients: Self.fhirServer(port: port).replacingOccurrences(of: "id: gp-fhir", with: "id: gp-edi"),
            delivery: "  edi_address: \"\(Self.ediSender)\"")
        _ = try await rig.worker().deliverDue()
        let record = try #require(try rig.store.records(state: .blocked, recipientType: nil, since: nil, limit: 5).first)
        #expect((record.lastError ?? "").hasPrefix("format-changed"), "\(record.lastError ?? "")")
        #expect(received.all.isEmpty)
    }

    /// Each combination that could never deliver is refused when the directory is read,
    /// naming the file and line.
    @Test(arguments: [
        ("format: medvri\n    https:\n      url: https://localhost:1/x\n      server_anchors: ca.pem", "goes by S/MIME mail"),
        ("format: medvri\n    folder: out", "needs 'edi_address'"),
        ("format: medvri\n    edi_address: \"12AB\"\n    folder: out", "not a numeric EDI address"),
        ("format: medvri\n    edi_address: \"1\"\n    edi_charset: UTF8\n    folder: out", "one of UNOA, UNOC"),
        ("edi_address: \"1\"\n    https:\n      url: https://localhost:1/x\n      server_anchors: ca.pem", "belongs to format medvri"),
        ("format: fhir-stu3\n    folder: out", "POSTed over https"),
        ("folder: out", "a folder carries format medvri only"),
        ("format: hl7v2\n    folder: out", "unknown format"),
    ])
    func impossibleCombinationsAreRefusedAtLoad(entry: String, expected: String) throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("recipients.yaml")
        try "recipients:\n  - id: gp\n    type: huisarts\n    \(entry)\n".write(to: file, atomically: true, encoding: .utf8)
        do {
            _ = try RecipientDirectory.load(file: file)
            Issue.record("accepted: \(entry)")
        } catch let error as ConfigError {
            #expect(error.description.contains(expected), "\(error)")
            #expect(error.line != nil && error.description.contains("recipients.yaml"), "\(error)")
        }
    }

    @Test func anEmployerNeverGetsALetterFormatAndMEDVRINeedsTheCentresEDIAddress() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("recipients.yaml")
        try "recipients:\n  - id: hr\n    type: werkgever\n    format: medvri\n    edi_address: \"1\"\n    folder: out\n"
            .write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try RecipientDirectory.load(file: file) }

        let rig = try DeliveryRig()
        try rig.configure(recipients: Self.medvriFolder(rig.folder))
        #expect(throws: DeliveryFailure.self) { try rig.worker() }
    }
}
