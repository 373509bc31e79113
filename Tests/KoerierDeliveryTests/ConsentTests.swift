import Foundation
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierStore
import KoerierTestSupport
import KoerierWorkflow
import KoerierXML
import Testing

/// Consent per trajectory and per named party, versioned (issue 12, point 5): from verified
/// referrals through the real intake, and from consent documents signed with `openssl cms`
/// and imported by the real binary.
@Suite(.serialized) struct ConsentTests {
    /// The sample referral for one client, as a GP gateway would send it: its own message and
    /// transaction, the given consent, signed by the practice.
    static func referral(transaction: String, allowed: [RecipientType], codec: MessageCodec) throws -> (Message, Data) {
        guard
            case .referral(var referral) = try codec.decode(
                try Data(contentsOf: Repository.samples.appendingPathComponent("referral-huisarts.xml")))
        else { throw DeliveryFailure("the sample is not a referral") }
        referral.envelope.messageID = .generate()
        referral.envelope.transactionID = try TransactionID(transaction)
        referral.consent.allowed = allowed
        let gp = try SigningIdentity(
            keyFile: Repository.pki.appendingPathComponent("gp.key"), certificateFile: Repository.pki.appendingPathComponent("gp.pem"),
            chainFile: Repository.pki.appendingPathComponent("chain.pem"))
        let bytes = try MessageSigning(codec: codec, signer: Signer(identity: gp)).signedXML(.referral(referral))
        return (.referral(referral), bytes)
    }

    static func report(recipients: [String]?) throws -> PhaseReport {
        let file = Repository.samples.appendingPathComponent("phase-reports/intake.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        if let recipients { object["recipients"] = recipients }
        return try PhaseReport.decode(try JSONSerialization.data(withJSONObject: object))
    }

    @Test func aLaterReferralForTheSameClientNeverWidensAnEarlierTrajectorysConsent() async throws {
        let rig = try DeliveryRig()
        try rig.configure(recipients: HTTPSDeliveryTests.gp(port: 9) + SMTPDeliveryTests.employer(port: 9))
        let parts = try DeliveryAssembly.parts(configuration: rig.configuration, store: rig.store, codec: rig.codec)
        let intake = IntakeProcessor(
            store: rig.store, directory: parts.directory,
            receipts: ReceiptIntake(store: rig.store, directory: parts.directory, receipts: parts.receipts), accessPoint: "test")
        // The same client referred twice: first without the employer, then with.
        let (first, firstBytes) = try Self.referral(transaction: "ZD20261102101", allowed: [.huisarts], codec: rig.codec)
        let (second, secondBytes) = try Self.referral(transaction: "ZD20261102102", allowed: [.huisarts, .werkgever], codec: rig.codec)
        try intake.accept(first, bytes: firstBytes, sender: "gp")
        try intake.accept(second, bytes: secondBytes, sender: "gp")
        let trajectories = try rig.store.trajectories(limit: 10).sorted { $0.id < $1.id }
        #expect(trajectories.count == 2 && trajectories[0].clientReference == trajectories[1].clientReference)
        let (earlier, later) = (trajectories[0].id, trajectories[1].id)
        #expect(try rig.store.consent(trajectory: earlier)?.grant.parties == [])
        #expect(try rig.store.consent(trajectory: later)?.grant.parties == ["employer"])

        let phases = PhaseCompletion(
            store: rig.store, directory: parts.directory, codec: rig.codec,
            signing: parts.adapters.signing)
        let context = DeliveryRig.context
        // A report of the earlier trajectory may not address the employer: refused, nothing queued.
        #expect {
            try phases.complete(
                trajectory: earlier, phase: .intake, report: try Self.report(recipients: ["employer"]), amend: false, context: context)
        } throws: { error in
            "\(error)".contains("'employer' is not a party trajectory \(earlier)'s consent (version 1) names")
        }
        #expect(try rig.store.phaseLetters(of: earlier).isEmpty)
        let earlierOutcome = try phases.complete(
            trajectory: earlier, phase: .intake, report: try Self.report(recipients: nil), amend: false, context: context)
        #expect(earlierOutcome.queued.map(\.recipient) == ["gp-de-linde"])
        let laterOutcome = try phases.complete(
            trajectory: later, phase: .intake, report: try Self.report(recipients: nil), amend: false, context: context)
        #expect(Set(laterOutcome.queued.map(\.recipient)) == ["gp-de-linde", "employer"])

        // A copy of the earlier trajectory's letter for the employer, queued by hand, is
        // blocked at its attempt (the partner is never contacted: nothing listens on port 9).
        let gpRecord = try #require(earlierOutcome.queued.first?.record)
        let bytes = try rig.store.deliveryPayload(of: gpRecord.id)
        let employer = try #require(parts.directory["employer"])
        let copy = try LetterQueue(adapters: parts.adapters).outbound(
            try rig.codec.decode(bytes), bytes: bytes, to: employer, urgency: .routine, clientReference: gpRecord.clientReference)
        let held = try rig.store.enqueue(copy, now: Date(), context: context).record
        _ = try await rig.worker().deliverDue()
        #expect(try rig.store.record(held.id)?.state == .blocked)
        #expect(
            try rig.store.record(held.id)?.lastError?.contains("trajectory \(earlier)'s consent (version 1) does not name employer") == true
        )
        let auditKinds = try rig.store.auditEntries(limit: 100).map(\.event.kind)
        #expect(auditKinds.filter { $0 == .consent }.count == 2)
    }

    /// Writes a consent document and its detached signature by `signer` (a test PKI party).
    static func signedDocument(
        in folder: URL, name: String, trajectory: Int64, parties: [String], signer: String, id: String = UUID().uuidString
    ) throws -> (document: URL, signature: URL) {
        let document = folder.appendingPathComponent("\(name).json")
        let signature = folder.appendingPathComponent("\(name).p7s")
        let object: [String: Any] = ["document_id": id, "trajectory": trajectory, "recorded_on": "2026-11-02", "parties": parties]
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: document)
        let pki = Repository.pki
        let result = try ProcessRunner.run(
            "openssl",
            [
                "cms", "-sign", "-binary", "-in", document.path, "-signer", pki.appendingPathComponent("\(signer).pem").path,
                "-inkey", pki.appendingPathComponent("\(signer).key").path, "-certfile",
                pki.appendingPathComponent(signer == "untrusted" ? "untrusted-ca.pem" : "chain.pem").path, "-outform", "DER",
                "-out", signature.path,
            ])
        #expect(result.exitCode == 0, "\(result.stderr)")
        return (document, signature)
    }

    @Test func aSignedConsentDocumentRecordsTheNextVersionAndEveryOtherIsRefusedWithItsRule() async throws {
        let rig = try DeliveryRig()
        let sink = try rig.startSMTPSink()
        try rig.configure(recipients: HTTPSDeliveryTests.gp(port: 9) + SMTPDeliveryTests.employer(port: sink.port))
        let config = rig.folder.appendingPathComponent("koerier.yaml").path
        let trajectory = try rig.grantConsent([]).trajectoryID  // versions 1 and 2: nobody
        func importing(_ files: (document: URL, signature: URL)) throws -> ProcessResult {
            try ProcessRunner.koerier(["consent", "import", "--config", config, files.document.path, "--signature", files.signature.path])
        }

        let grant = try Self.signedDocument(in: rig.folder, name: "grant", trajectory: trajectory, parties: ["employer"], signer: "centre")
        let recorded = try importing(grant)
        #expect(
            recorded.exitCode == 0 && recorded.stdout == "trajectory \(trajectory): consent version 3: employer\n", "\(recorded.stderr)")
        #expect(try importing(grant).stdout == recorded.stdout, "the same document again records nothing new")

        let refusals: [(String, (document: URL, signature: URL), String)] = [
            (
                "another organisation",
                try Self.signedDocument(in: rig.folder, name: "gp", trajectory: trajectory, parties: [], signer: "gp"),
                "the signer is not this centre's organisation"
            ),
            (
                "an untrusted root",
                try Self.signedDocument(in: rig.folder, name: "rogue", trajectory: trajectory, parties: [], signer: "untrusted"),
                "[untrusted-chain]"
            ),
            (
                "an unknown party",
                try Self.signedDocument(in: rig.folder, name: "nobody", trajectory: trajectory, parties: ["nobody"], signer: "centre"),
                "parties: 'nobody' is not in the recipient directory"
            ),
            (
                "an unknown trajectory",
                try Self.signedDocument(in: rig.folder, name: "lost", trajectory: 99, parties: [], signer: "centre"),
                "trajectory: no trajectory 99"
            ),
        ]
        for (what, files, reason) in refusals {
            let refused = try importing(files)
            #expect(refused.exitCode == 1 && refused.stderr.contains(reason), "\(what): \(refused.stderr)")
        }
        // Bytes changed after signing (a party added), and no signature at all.
        let tampered = try Self.signedDocument(in: rig.folder, name: "tampered", trajectory: trajectory, parties: [], signer: "centre")
        try Data(try String(contentsOf: tampered.document, encoding: .utf8).replacingOccurrences(of: "[]", with: "[\"employer\"]").utf8)
            .write(to: tampered.document)
        #expect(try importing(tampered).stderr.contains("the signature does not cover these bytes"))
        try Data("not a signature".utf8).write(to: tampered.signature)
        #expect(try importing(tampered).stderr.contains("not a CMS signed-data structure"))
        #expect(try rig.store.consent(trajectory: trajectory)?.version == 3)

        // Granted: the employer gets its notice. Withdrawn (an empty list): the next letter is blocked.
        let sent = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "employer", type: .werkgever)
        _ = try await rig.worker().deliverDue()
        #expect(try rig.store.record(sent.id)?.state == .delivered)
        let withdrawal = try Self.signedDocument(in: rig.folder, name: "withdraw", trajectory: trajectory, parties: [], signer: "centre")
        #expect(try importing(withdrawal).stdout == "trajectory \(trajectory): consent version 4: no party\n")
        let held = try rig.enqueue("return-letter-afsluiting-ecdsa.xml", to: "employer", type: .werkgever)
        _ = try await rig.worker().deliverDue()
        #expect(try rig.store.record(held.id)?.state == .blocked)
        #expect(try rig.store.record(held.id)?.lastError?.contains("consent (version 4) does not name employer") == true)
        #expect(rig.mails(in: sink.mailbox).count == 1)
        #expect(try ProcessRunner.koerier(["audit", "verify", "--config", config]).stdout == "audit log intact\n")
    }
}
