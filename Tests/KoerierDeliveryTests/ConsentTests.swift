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
@Suite(.serialized, .ownThreads) struct ConsentTests {
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

    /// A type the client allowed that has two directory entries names neither: which one
    /// the client meant is for a signed consent document to say.
    @Test func aTypeWithSeveralDirectoryEntriesNamesNoParty() throws {
        let rig = try DeliveryRig()
        try rig.configure(
            recipients: HTTPSDeliveryTests.gp(port: 9) + SMTPDeliveryTests.employer(port: 9)
                + SMTPDeliveryTests.employer(port: 9, id: "employer-2") + HTTPSDeliveryTests.arbo(port: 9))
        let parts = try DeliveryAssembly.parts(configuration: rig.configuration, store: rig.store, codec: rig.codec)
        let intake = IntakeProcessor(
            store: rig.store, directory: parts.directory,
            receipts: ReceiptIntake(store: rig.store, directory: parts.directory, receipts: parts.receipts), accessPoint: "test")
        let (referral, bytes) = try Self.referral(
            transaction: "ZD20261102103", allowed: [.huisarts, .werkgever, .bedrijfsarts], codec: rig.codec)
        try intake.accept(referral, bytes: bytes, sender: "gp")
        let trajectory = try #require(try rig.store.trajectories(limit: 1).first)
        #expect(try rig.store.consent(trajectory: trajectory.id)?.grant.parties == ["arbo"])
    }

    /// Writes a consent document and its detached signature by `signer` (a test PKI party).
    static func signedDocument(
        in folder: URL, name: String, trajectory: Int64, replacing: Int, parties: [String], signer: String = "centre-ec",
        id: String = UUID().uuidString
    ) throws -> (document: URL, signature: URL) {
        let document = folder.appendingPathComponent("\(name).json")
        let signature = folder.appendingPathComponent("\(name).p7s")
        let object: [String: Any] = [
            "document_id": id, "trajectory": trajectory, "replaces_version": replacing, "recorded_on": "2026-11-02", "parties": parties,
        ]
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
        let trajectoryID = try rig.grantConsent([]).trajectoryID  // versions 1 and 2: nobody
        // Off the cooperative pool: the in-process listeners of tests running beside this one need it.
        func importing(_ files: (document: URL, signature: URL)) async throws -> ProcessResult {
            try await ProcessRunner.offPool {
                try ProcessRunner.koerier([
                    "consent", "import", "--config", config, files.document.path, "--signature", files.signature.path,
                ])
            }
        }

        func document(_ name: String, _ parties: [String], replacing: Int = 2, signer: String = "centre-ec", trajectory: Int64? = nil)
            throws
            -> (document: URL, signature: URL)
        {
            try Self.signedDocument(
                in: rig.folder, name: name, trajectory: trajectory ?? trajectoryID, replacing: replacing, parties: parties, signer: signer)
        }
        let grant = try document("grant", ["employer"])
        let recorded = try await importing(grant)
        #expect(
            recorded.exitCode == 0 && recorded.stdout == "trajectory \(trajectoryID): consent version 3: employer\n", "\(recorded.stderr)")
        #expect(try await importing(grant).stdout == recorded.stdout, "the same document again records nothing new")

        let refusals: [(String, (document: URL, signature: URL), String)] = [
            ("the gateway's own key", try document("own", [], signer: "centre"), "signed with one of this gateway's own keys"),
            ("a partner", try document("gp", [], signer: "gp"), "the signer is not one of trust.consent_signers"),
            ("a revoked certificate", try document("revoked", [], signer: "revoked"), "[revoked]"),
            ("an untrusted root", try document("rogue", [], signer: "untrusted"), "[untrusted-chain]"),
            ("an unknown party", try document("nobody", ["nobody"], replacing: 3), "parties: 'nobody' is not in the recipient directory"),
            ("an unknown trajectory", try document("lost", [], trajectory: 99), "trajectory: no trajectory 99"),
            ("a stale version", try document("stale", []), "replaces version 2 of trajectory \(trajectoryID), but version 3 is in force"),
        ]
        for (what, files, reason) in refusals {
            let refused = try await importing(files)
            #expect(refused.exitCode == 1 && refused.stderr.contains(reason), "\(what): \(refused.stderr)")
        }
        // Bytes changed after signing (a party added), and no signature at all.
        let tampered = try document("tampered", [], replacing: 3)
        try Data(try String(contentsOf: tampered.document, encoding: .utf8).replacingOccurrences(of: "[]", with: "[\"employer\"]").utf8)
            .write(to: tampered.document)
        #expect(try await importing(tampered).stderr.contains("the signature does not cover these bytes"))
        try Data("not a signature".utf8).write(to: tampered.signature)
        #expect(try await importing(tampered).stderr.contains("not a CMS signed-data structure"))
        #expect(try rig.store.consent(trajectory: trajectoryID)?.version == 3)

        // Granted: the employer gets its notice. Withdrawn (an empty list): the next letter is blocked.
        let sent = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "employer", type: .werkgever)
        _ = try await rig.worker().deliverDue()
        #expect(try rig.store.record(sent.id)?.state == .delivered)
        // Signed before the withdrawal, imported after it: stale, so the withdrawal holds.
        let replayed = try document("replayed", ["employer"], replacing: 3)
        let withdrawal = try document("withdraw", [], replacing: 3)
        #expect(try await importing(withdrawal).stdout == "trajectory \(trajectoryID): consent version 4: no party\n")
        #expect(try await importing(replayed).stderr.contains("version 4 is in force"))
        let held = try rig.enqueue("return-letter-afsluiting-ecdsa.xml", to: "employer", type: .werkgever)
        _ = try await rig.worker().deliverDue()
        #expect(try rig.store.record(held.id)?.state == .blocked)
        #expect(try rig.store.record(held.id)?.lastError?.contains("consent (version 4) does not name employer") == true)
        #expect(rig.mails(in: sink.mailbox).count == 1)
        let consentEntries = try rig.store.auditEntries(limit: 200).filter { $0.event.kind == .consent }.map(\.event.outcome)
        #expect(consentEntries.contains("trajectory \(trajectoryID) consent version 3: employer"), "\(consentEntries)")
        #expect(consentEntries.contains("trajectory \(trajectoryID) consent version 4: no party"), "\(consentEntries)")
        #expect(
            try await ProcessRunner.offPool { try ProcessRunner.koerier(["audit", "verify", "--config", config]) }.stdout
                == "audit log intact\n")
    }
}
