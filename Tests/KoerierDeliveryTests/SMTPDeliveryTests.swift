import Foundation
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierStore
import KoerierTestSupport
import KoerierWorkflow
import KoerierXML
import Testing

/// Delivery by S/MIME mail through a real SMTP server (aiosmtpd, STARTTLS required),
/// opened afterwards with `openssl cms`, as the recipient would.
@Suite(.serialized, .ownThreads) struct SMTPDeliveryTests {
    static func employer(
        port: Int, certificate: Bool = true, id: String = "employer", type: String = "werkgever",
        certificateFile: URL = Repository.pki.appendingPathComponent("employer-smime.pem")
    ) -> String {
        """
          - id: \(id)
            name: Gemeente Voorbeeldstad, afdeling HR
            type: \(type)
            smtp:
              to: hr@voorbeeldstad.test
              relay: 127.0.0.1
              port: \(port)
              relay_anchors: \(Repository.pki.appendingPathComponent("ca.pem").path)
        \(certificate ? "      certificate: \(certificateFile.path)" : "")

        """
    }

    /// `openssl cms -decrypt` with the recipient's key (the employer's unless told), then
    /// `-verify` against the test root.
    static func openMail(_ mail: Data, in folder: URL, as recipient: String = "employer") throws -> String {
        let mailFile = folder.appendingPathComponent("mail-\(UUID().uuidString).eml")
        try mail.write(to: mailFile)
        let pki = Repository.pki
        let decrypted = try ProcessRunner.run(
            "/usr/bin/openssl",
            [
                "cms", "-decrypt", "-in", mailFile.path,
                "-recip", pki.appendingPathComponent("\(recipient).pem").path,
                "-inkey", pki.appendingPathComponent("\(recipient).key").path,
            ])
        #expect(decrypted.exitCode == 0, "\(decrypted.stderr)")
        let signedFile = folder.appendingPathComponent("signed-\(UUID().uuidString).eml")
        try decrypted.stdout.write(to: signedFile, atomically: true, encoding: .utf8)
        let verified = try ProcessRunner.run(
            "/usr/bin/openssl",
            [
                "cms", "-verify", "-in", signedFile.path,
                "-CAfile", pki.appendingPathComponent("ca.pem").path,
            ])
        #expect(verified.exitCode == 0 && verified.stderr.contains("Verification successful"), "\(verified.stderr)")
        return verified.stdout
    }

    /// The base64 attachment of the inner MIME entity, decoded.
    static func attachment(of entity: String) throws -> Data {
        let parts = entity.components(separatedBy: "Content-Transfer-Encoding: base64")
        let body = try #require(parts.last).components(separatedBy: "\r\n\r\n").dropFirst().first ?? ""
        let base64 = body.components(separatedBy: "--koerier-").first ?? ""
        return try #require(Data(base64Encoded: base64, options: .ignoreUnknownCharacters))
    }

    /// Every clinical field of a return letter, as text that must never reach an employer.
    static func clinicalFragments(of letter: ReturnLetter) -> [String] {
        var fragments = [
            letter.patient.bsn.digits, letter.patient.birthDate.description, letter.phase.rawValue,
            letter.soep.subjective.text, letter.soep.objective, letter.soep.evaluation.text, letter.soep.plan,
            letter.adviceToReferrer, letter.nextStep,
        ]
        let codes: [IcpcCode] = letter.soep.subjective.icpc + letter.soep.evaluation.icpc
        fragments += codes.flatMap { [$0.code, $0.label] }
        fragments += letter.goals.flatMap { [$0.description, $0.measure] }
        return fragments.filter { $0.count >= 3 }
    }

    @Test(arguments: [RecipientType.werkgever, .sociaalDomein])
    func nonClinicalRecipientsGetOnlyAnEncryptedSignedParticipationNotice(type: RecipientType) async throws {
        let rig = try DeliveryRig()
        let sink = try rig.startSMTPSink()
        try rig.configure(recipients: Self.employer(port: sink.port, type: type.rawValue))
        try rig.grantConsent(["employer"])
        let queued = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "employer", type: type)

        #expect(try await rig.worker().deliverDue().handled[.delivered] == 1)
        let record = try #require(try rig.store.record(queued.id))
        #expect(record.state == .delivered, "\(record.lastError ?? "")")
        let mails = rig.mails(in: sink.mailbox)
        try #require(mails.count == 1)
        // Sent once, and only after STARTTLS.
        #expect(rig.transcript(of: sink.mailbox) == ["MAIL tls=True", "DATA tls=True"])

        let source = Repository.signedSamples.appendingPathComponent("return-letter-fase-2-rsa.xml")
        guard case .returnLetter(let letter) = try rig.codec.decode(try Data(contentsOf: source)) else {
            Issue.record("not a letter")
            return
        }
        let fragments = Self.clinicalFragments(of: letter)
        #expect(fragments.count >= 8)
        // Not in the bytes that left the process: encrypted, and the plain body says nothing.
        let raw = String(decoding: mails[0], as: UTF8.self)
        #expect(raw.contains("application/pkcs7-mime") && raw.contains("enveloped-data"))
        // (Short codes like "P78" can occur by chance in base64 ciphertext: the raw mail is
        // checked for the longer fields; the decrypted notice below for every field.)
        for fragment in fragments + [letter.patient.name.family] where fragment.count >= 8 {
            #expect(!raw.contains(fragment), "mail shows '\(fragment)'")
        }

        // Opened as the employer would: what is inside is a participation notice, signed by the centre.
        let entity = try Self.openMail(mails[0], in: rig.folder)
        #expect(!entity.contains("<ReturnLetter"))
        let notice = try Self.attachment(of: entity)
        for fragment in fragments { #expect(!String(decoding: notice, as: UTF8.self).contains(fragment), "notice shows '\(fragment)'") }
        let decoded = try rig.codec.decodeKeepingDocument(notice)
        guard case .participationNotice(let participation) = decoded.message else {
            Issue.record("not a notice")
            return
        }
        #expect(participation.participant.name == letter.patient.name)
        #expect(participation.envelope.receiver.type.rawValue == type.rawValue)
        let verifier = SignatureVerifier(trust: try TrustStore(anchorsFile: Repository.pki.appendingPathComponent("ca.pem")))
        #expect(try verifier.verify(decoded.document).careIdentifier == "90000456")
    }

    @Test func aReceiptArrivingLaterAcknowledgesTheMailedNotice() async throws {
        let rig = try DeliveryRig()
        let sink = try rig.startSMTPSink()
        try rig.configure(recipients: Self.employer(port: sink.port))
        try rig.grantConsent(["employer"])
        let queued = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "employer", type: .werkgever)
        _ = try await rig.worker().deliverDue()
        let notice = try Self.attachment(of: try Self.openMail(try #require(rig.mails(in: sink.mailbox).first), in: rig.folder))

        // The employer's system answers with a receipt signed with the employer's certificate.
        let envelope = try rig.codec.decode(notice).envelope
        let signing = try Self.employerSigning(rig)
        let receipt = try signing.receipt(answering: envelope, bytes: notice, outcome: .accepted, from: envelope.receiver)
        let intake = try Self.employerReceiptIntake(rig)
        #expect(try intake.accept(receipt, context: DeliveryRig.context).state == .acknowledged)
        #expect(try rig.store.record(queued.id)?.receiptID == (try rig.codec.decode(receipt)).envelope.messageID.value)

        // A receipt for other bytes under the same id is refused.
        let forged = try signing.receipt(answering: envelope, bytes: Data("other bytes".utf8), outcome: .accepted, from: envelope.receiver)
        #expect(throws: DeliveryFailure.self) { try intake.accept(forged, context: DeliveryRig.context) }
    }

    /// How the employer's system signs its receipts (with the employer's certificate).
    static func employerSigning(_ rig: DeliveryRig) throws -> MessageSigning {
        let employer = try SigningIdentity(
            keyFile: Repository.pki.appendingPathComponent("employer.key"),
            certificateFile: Repository.pki.appendingPathComponent("employer.pem"),
            chainFile: Repository.pki.appendingPathComponent("chain.pem"))
        return MessageSigning(codec: rig.codec, signer: Signer(identity: employer))
    }

    /// Receipts matched to the rig's records. The employer is no care provider and has no UZI
    /// identity: only in test mode is its receipt bound to its directory entry, by organisation name.
    static func employerReceiptIntake(_ rig: DeliveryRig) throws -> ReceiptIntake {
        ReceiptIntake(
            store: rig.store, directory: try RecipientDirectory.load(file: rig.configuration.recipientsFile),
            receipts: ReceiptCheck(
                codec: rig.codec,
                verifier: SignatureVerifier(
                    trust: try TrustStore(anchorsFile: Repository.pki.appendingPathComponent("ca.pem")), identities: .testMode)))
    }

    /// The receipt intake as `serve` wires it, on the rig's store.
    static func receiptIntake(_ rig: DeliveryRig) throws -> IntakeProcessor {
        IntakeProcessor(
            store: rig.store, directory: try RecipientDirectory.load(file: rig.configuration.recipientsFile),
            receipts: try employerReceiptIntake(rig), accessPoint: "test")
    }

    /// The employer's signed receipt answering the notice queued as record `id`.
    static func receipt(_ rig: DeliveryRig, for id: Int64, _ outcome: ReceiptOutcome) throws -> (Message, Data) {
        let signing = try employerSigning(rig)
        let notice = try rig.store.deliveryPayload(of: id)
        let envelope = try rig.codec.decode(notice).envelope
        let bytes = try signing.receipt(answering: envelope, bytes: notice, outcome: outcome, from: envelope.receiver)
        return (try rig.codec.decode(bytes), bytes)
    }

    /// Receipts for records nobody is sending any more: one that went dead without a receipt
    /// (its relay refused it) takes a rejection as agreeing and an acceptance as late proof
    /// that the letter arrived; a cancelled one refuses a receipt for good (a 4xx, not "later",
    /// which the partner would repeat for ever).
    @Test func receiptsForRecordsGivenUpOnAreTakenOrRefusedForGood() async throws {
        let rig = try DeliveryRig()
        let refusing = try rig.startSMTPSink(reply: "550")
        try rig.configure(recipients: Self.employer(port: refusing.port) + Self.employer(port: refusing.port, id: "employer-2"))
        try rig.grantConsent(["employer", "employer-2"])
        let refused = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "employer", type: .werkgever)
        let cancelled = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "employer-2", type: .werkgever)
        _ = try rig.store.transition(cancelled.id, Transition(to: .cancelled), now: Date(), context: DeliveryRig.context)
        #expect(try await rig.worker().deliverDue().handled == [.dead: 1])
        let intake = try Self.receiptIntake(rig)

        let (rejection, rejectionBytes) = try Self.receipt(rig, for: refused.id, .rejected(code: .ruleViolation, text: "unknown employee"))
        try intake.accept(rejection, bytes: rejectionBytes, sender: "employer")
        #expect(try rig.store.record(refused.id)?.state == .dead)
        let (acceptance, acceptanceBytes) = try Self.receipt(rig, for: refused.id, .accepted)
        try intake.accept(acceptance, bytes: acceptanceBytes, sender: "employer")
        #expect(try rig.store.record(refused.id)?.state == .acknowledged)

        let (late, lateBytes) = try Self.receipt(rig, for: cancelled.id, .accepted)
        #expect(throws: IntakeRefusal.self) { try intake.accept(late, bytes: lateBytes, sender: "employer-2") }
        #expect(try rig.store.record(cancelled.id)?.state == .cancelled)
    }

    /// Receipts that come in on their own are answered as partners mean them: the same
    /// rejecting receipt twice settles its record once and is taken again without complaint;
    /// a receipt for a record being sent again right now is "later" (our state, not a refusal
    /// the partner would give up on) and settles it once the attempt is over; the opposite
    /// verdict for a settled record is refused.
    @Test func receiptsArrivingOnTheirOwnAreAnsweredAsPartnersMeanThem() async throws {
        let rig = try DeliveryRig()
        let sink = try rig.startSMTPSink()
        let busy = try rig.startSMTPSink(reply: "451")
        try rig.configure(recipients: Self.employer(port: sink.port) + Self.employer(port: busy.port, id: "employer-busy"))
        try rig.grantConsent(["employer", "employer-busy"])
        let mailed = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "employer", type: .werkgever)
        let delayed = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "employer-busy", type: .werkgever)
        #expect(try await rig.worker().deliverDue().handled == [.delivered: 1, .retrying: 1])
        let intake = try Self.receiptIntake(rig)
        func receipt(for id: Int64, _ outcome: ReceiptOutcome) throws -> (Message, Data) { try Self.receipt(rig, for: id, outcome) }

        // The same rejection twice: dead once, with one audit entry for it; the second is no refusal.
        let (rejection, rejectionBytes) = try receipt(for: mailed.id, .rejected(code: .ruleViolation, text: "unknown employee"))
        try intake.accept(rejection, bytes: rejectionBytes, sender: "employer")
        try intake.accept(rejection, bytes: rejectionBytes, sender: "employer")
        let dead = try #require(try rig.store.record(mailed.id))
        #expect(dead.state == .dead && dead.receiptID == rejection.envelope.messageID.value)
        #expect(try rig.store.auditEntries(limit: 100).filter { $0.event.kind == .dead }.count == 1)
        // An acceptance for the record a rejection settled: refused (a 4xx), nothing changes.
        let (acceptance, acceptanceBytes) = try receipt(for: mailed.id, .accepted)
        #expect(throws: IntakeRefusal.self) { try intake.accept(acceptance, bytes: acceptanceBytes, sender: "employer") }
        #expect(try rig.store.record(mailed.id)?.state == .dead)

        // A receipt while the record is being sent again: not a refusal, and nothing changes.
        try await HTTPSDeliveryTests.waitUntilDue(rig, delayed.id)
        let leased = try rig.store.leaseDue(owner: "another-attempt", now: Date(), duration: 60, limit: 10, context: DeliveryRig.context)
        let lease = try #require(leased.first { $0.id == delayed.id }?.leaseToken)
        let (late, lateBytes) = try receipt(for: delayed.id, .accepted)
        do {
            try intake.accept(late, bytes: lateBytes, sender: "employer-busy")
            Issue.record("a receipt for a record being sent was taken")
        } catch {
            #expect(!(error is IntakeRefusal), "\(error)")
        }
        #expect(try rig.store.record(delayed.id)?.state == .sending)
        // The attempt ends (the relay is still busy); the partner sends the receipt again and it settles.
        _ = try rig.store.transition(
            delayed.id, Transition(to: .retrying, error: "SMTP 451", nextAttemptAt: Date().addingTimeInterval(60)), lease: lease,
            now: Date(), context: DeliveryRig.context)
        try intake.accept(late, bytes: lateBytes, sender: "employer-busy")
        #expect(try rig.store.record(delayed.id)?.state == .acknowledged)
    }

    @Test func withoutConsentOrWithoutACertificateNothingIsMailed() async throws {
        let rig = try DeliveryRig()
        let sink = try rig.startSMTPSink()
        try rig.configure(
            recipients: Self.employer(port: sink.port)
                + Self.employer(port: sink.port, certificate: false, id: "wijkteam", type: "sociaal-domein"))
        let noConsent = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "employer", type: .werkgever)
        _ = try await rig.worker().deliverDue()
        #expect(try rig.store.record(noConsent.id)?.state == .blocked)
        #expect(try rig.store.record(noConsent.id)?.lastError?.hasPrefix("no-consent") == true)

        try rig.grantConsent(["wijkteam"])
        let noCertificate = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "wijkteam", type: .sociaalDomein)
        _ = try await rig.worker().deliverDue()
        #expect(try rig.store.record(noCertificate.id)?.state == .blocked)
        #expect(try rig.store.record(noCertificate.id)?.lastError?.hasPrefix("no-smime-certificate") == true)
        #expect(rig.mails(in: sink.mailbox).isEmpty)
    }

    @Test func aRelayThatOffersNoSTARTTLSIsNeverGivenTheMail() async throws {
        let rig = try DeliveryRig()
        let plain = try rig.startSMTPSink(plain: true)
        try rig.configure(recipients: Self.employer(port: plain.port))
        try rig.grantConsent(["employer"])
        let queued = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "employer", type: .werkgever)
        _ = try await rig.worker().deliverDue()
        let record = try #require(try rig.store.record(queued.id))
        #expect(record.state == .retrying, "\(record.state) \(record.lastError ?? "")")
        // Not even the envelope left in the clear: the relay saw no MAIL command.
        #expect(rig.transcript(of: plain.mailbox).isEmpty, "\(rig.transcript(of: plain.mailbox))")
        #expect(rig.mails(in: plain.mailbox).isEmpty)
    }

    @Test func aRelayThatRefusesPermanentlyMakesTheRecordDeadAndATemporaryRefusalRetries() async throws {
        let rig = try DeliveryRig()
        let refusing = try rig.startSMTPSink(reply: "550")
        let busy = try rig.startSMTPSink(reply: "451")
        try rig.configure(recipients: Self.employer(port: refusing.port) + Self.employer(port: busy.port, id: "employer-busy"))
        try rig.grantConsent(["employer", "employer-busy"])
        let refused = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "employer", type: .werkgever)
        let delayed = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "employer-busy", type: .werkgever)
        _ = try await rig.worker().deliverDue()
        #expect(try rig.store.record(refused.id)?.state == .dead)
        #expect(try rig.store.record(refused.id)?.lastError?.hasPrefix("SMTP 550") == true)
        #expect(try rig.store.record(delayed.id)?.state == .retrying)
        #expect(try rig.store.record(delayed.id)?.lastError?.hasPrefix("SMTP 451") == true)
    }

    @Test func aRelayThatRequiresAuthGetsTheConfiguredCredentialsAndRefusesWrongOnes() async throws {
        let rig = try DeliveryRig()
        let sink = try rig.startSMTPSink(auth: "koerier:s3cret-relay")
        let right = rig.folder.appendingPathComponent("relay.password")
        let wrong = rig.folder.appendingPathComponent("wrong.password")
        try "s3cret-relay\n".write(to: right, atomically: true, encoding: .utf8)
        try "guess\n".write(to: wrong, atomically: true, encoding: .utf8)
        func entry(_ id: String, _ password: URL) -> String {
            Self.employer(port: sink.port, id: id) + "      username: koerier\n      password_file: \(password.path)\n\n"
        }
        try rig.configure(recipients: entry("employer", right) + entry("employer-wrong", wrong))
        try rig.grantConsent(["employer", "employer-wrong"])
        let good = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "employer", type: .werkgever)
        let bad = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "employer-wrong", type: .werkgever)
        _ = try await rig.worker().deliverDue()
        #expect(try rig.store.record(good.id)?.state == .delivered)
        let refused = try #require(try rig.store.record(bad.id))
        // 535: the relay's final word on the credentials (5xx), so no retries.
        #expect(refused.state == .dead && refused.lastError?.hasPrefix("SMTP 535") == true, "\(refused.state) \(refused.lastError ?? "")")
        #expect(rig.mails(in: sink.mailbox).count == 1)
    }
}
