import Foundation
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierServer
import KoerierStore
import KoerierTestSupport
import KoerierXML
import Testing

/// Identities where parties meet: the TLS client and the signer at intake, the sender our
/// receipts name, the party a receipt we accept must come from, and the S/MIME certificate
/// we encrypt to.
@Suite(.serialized, .ownThreads) struct IdentityBindingTests {
    static func signing(_ rig: DeliveryRig, as party: String) throws -> MessageSigning {
        MessageSigning(
            codec: rig.codec,
            signer: Signer(
                identity: try SigningIdentity(
                    keyFile: rig.pki.appendingPathComponent("\(party).key"),
                    certificateFile: rig.pki.appendingPathComponent("\(party).pem"),
                    chainFile: rig.pki.appendingPathComponent("chain.pem"))))
    }

    static func der(_ rig: DeliveryRig, _ party: String) throws -> Data {
        try #require(Certificate.loadPEM(try Data(contentsOf: rig.pki.appendingPathComponent("\(party).pem"))).first).der
    }

    /// The receipt in an answer (its outcome and sender), checked to be signed by `signer`'s URA.
    static func receipt(in answer: ListenerAnswer, rig: DeliveryRig, signedBy ura: String) throws -> Receipt {
        let decoded = try rig.codec.decodeKeepingDocument(answer.body)
        guard case .receipt(let receipt) = decoded.message else { throw DeliveryFailure("the answer is not a receipt") }
        let verifier = SignatureVerifier(trust: try TrustStore(anchorsFile: rig.pki.appendingPathComponent("ca.pem")))
        #expect(try verifier.verify(decoded.document).careIdentifier == ura)
        return receipt
    }

    static func rejection(_ receipt: Receipt) -> (code: RejectionCode, text: String)? {
        if case .rejected(let code, let text) = receipt.outcome { return (code, text) }
        return nil
    }

    @Test func organisationNamesMatchTheTLSClientToTheSignerOnlyInTestMode() async throws {
        let rig = try DeliveryRig()
        // A referral signed by GP De Linde (UZI otherName URA 90000123), sent with a client
        // certificate of the same practice that names its URA only in the subject serialNumber.
        let referral = try Data(contentsOf: Repository.signedSamples.appendingPathComponent("referral-huisarts-rsa.xml"))
        let legacyClient = InboundRequest(body: referral, clientCertificateDER: try Self.der(rig, "legacy-serial"))
        let production = try rig.receiptingResponder(as: "centre", received: Received(), identities: .uziOnly)
        let refused = try Self.receipt(in: production.answer(legacyClient), rig: rig, signedBy: "90000456")
        #expect(Self.rejection(refused)?.code == .senderMismatch)
        #expect(Self.rejection(refused)?.text.contains("no UZI identity") == true, "\(refused.outcome)")
        let testMode = try rig.receiptingResponder(as: "centre", received: Received(), identities: .testMode)
        #expect(try Self.receipt(in: testMode.answer(legacyClient), rig: rig, signedBy: "90000456").outcome == .accepted)

        // A receipt from the employer, whose certificates name no identifier at all: only
        // in test mode do organisation names bind signer, sender and TLS client.
        let answeredID = MessageID.generate()
        let answered = Receipt(
            envelope: Envelope(
                messageID: .generate(), transactionID: try TransactionID("ZD20260302007"),
                created: Fixtures.timestamp("2026-06-08T11:15:00+02:00"), documentKind: .ontvangstbevestiging,
                sender: Fixtures.employer, receiver: Fixtures.centre, inReplyTo: answeredID),
            answeredMessageID: answeredID, answeredDigest: try SHA256Hex(String(repeating: "ab", count: 32)),
            outcome: .accepted, receivedAt: Fixtures.timestamp("2026-06-08T11:15:00+02:00"))
        let employerReceipt = InboundRequest(
            body: try Self.signing(rig, as: "employer").signedXML(.receipt(answered)), clientCertificateDER: try Self.der(rig, "employer"))
        let received = Received()
        let lenient = try rig.receiptingResponder(as: "centre", received: received, identities: .testMode)
        #expect(lenient.answer(employerReceipt).status == 204)
        #expect(received.all.count == 1)
        let strict = try rig.receiptingResponder(as: "centre", received: received, identities: .uziOnly)
        let rejected = try Self.receipt(in: strict.answer(employerReceipt), rig: rig, signedBy: "90000456")
        #expect(Self.rejection(rejected)?.code == .senderMismatch)
        #expect(received.all.count == 1)
    }

    @Test func ourReceiptsNameOurOwnIdentityWhateverTheEnvelopeSays() async throws {
        let rig = try DeliveryRig()
        let sample = try Data(contentsOf: Repository.signedSamples.appendingPathComponent("return-letter-fase-2-rsa.xml"))
        guard case .returnLetter(var letter) = try rig.codec.decode(sample) else { throw DeliveryFailure("not a return letter") }
        let centre = try Self.signing(rig, as: "centre")
        let clientDER = try Self.der(rig, "centre")
        let gp = try rig.receiptingResponder(as: "gp", received: Received())

        // Our URA, but another name: accepted, and the receipt names us as our certificate does.
        letter.envelope.messageID = .generate()
        letter.envelope.receiver.organisation = "Praktijk Elders"
        letter.envelope.receiver.agb = try AGBCode("01099999")
        let accepted = try Self.receipt(
            in: gp.answer(InboundRequest(body: try centre.signedXML(.returnLetter(letter)), clientCertificateDER: clientDER)), rig: rig,
            signedBy: "90000123")
        #expect(accepted.outcome == .accepted)
        #expect(accepted.envelope.sender.organisation == "Huisartsenpraktijk De Linde")
        #expect(accepted.envelope.sender.ura?.value == "90000123" && accepted.envelope.sender.agb?.value == "01012345")

        // Addressed to another URA: rejected, and the rejection is still from us, not from them.
        letter.envelope.messageID = .generate()
        letter.envelope.receiver = Party(type: .bedrijfsarts, organisation: "Arbodienst Voorbeeld", ura: try URANumber("90000789"))
        let rejected = try Self.receipt(
            in: gp.answer(InboundRequest(body: try centre.signedXML(.returnLetter(letter)), clientCertificateDER: clientDER)), rig: rig,
            signedBy: "90000123")
        #expect(Self.rejection(rejected)?.code == .unknownReceiver)
        #expect(rejected.envelope.sender.ura?.value == "90000123")
        #expect(rejected.envelope.sender.organisation == "Huisartsenpraktijk De Linde")
    }

    @Test func aReceiptFromATrustedPartyThatIsNotTheRecipientDoesNotAcknowledge() async throws {
        let rig = try DeliveryRig()
        // GP De Linde's address answers, but with a receipt the arbo service signed (trusted
        // chain, its own URA 90000789 as sender): a positive match with the GP's URA fails.
        let arbo = try Self.signing(rig, as: "arbo")
        let codec = rig.codec
        let port = try await rig.startListener(as: "gp") { request in
            do {
                let envelope = try codec.decode(request.body).envelope
                let party = Party(type: .bedrijfsarts, organisation: "Arbodienst Voorbeeld", ura: try URANumber("90000789"))
                return ListenerAnswer(
                    status: 200, body: try arbo.receipt(answering: envelope, bytes: request.body, outcome: .accepted, from: party))
            } catch {
                return ListenerAnswer(status: 500, body: Data("\(error)".utf8))
            }
        }
        try rig.configure(recipients: HTTPSDeliveryTests.gp(port: port))
        let queued = try rig.enqueue(HTTPSDeliveryTests.letter, to: "gp-de-linde", type: .huisarts)
        _ = try await rig.worker().deliverDue()
        let record = try #require(try rig.store.record(queued.id))
        #expect(record.state == .delivered && record.receiptID == nil, "\(record.state)")
        #expect(
            record.lastError?.contains("signed by URA 90000789, not by recipient gp-de-linde (URA 90000123)") == true,
            "\(record.lastError ?? "")")
    }

    @Test func aMailedRecordIsAcknowledgedOnlyByItsRecipientsReceipt() async throws {
        let rig = try DeliveryRig()
        let sink = try rig.startSMTPSink()
        try rig.configure(recipients: SMTPDeliveryTests.employer(port: sink.port))
        try rig.grantConsent(["employer"])
        let queued = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "employer", type: .werkgever)
        _ = try await rig.worker().deliverDue()
        let notice = try SMTPDeliveryTests.attachment(
            of: try SMTPDeliveryTests.openMail(try #require(rig.mails(in: sink.mailbox).first), in: rig.folder))
        let envelope = try rig.codec.decode(notice).envelope
        let directory = try RecipientDirectory.load(file: rig.configuration.recipientsFile)
        func intake(_ identities: IdentityPolicy) throws -> ReceiptIntake {
            ReceiptIntake(
                store: rig.store, directory: directory,
                receipts: ReceiptCheck(
                    codec: rig.codec,
                    verifier: SignatureVerifier(
                        trust: try TrustStore(anchorsFile: rig.pki.appendingPathComponent("ca.pem")), identities: identities)))
        }

        // The arbo service (trusted, URA 90000789) answers for the employer: refused, even in test mode.
        let arboParty = Party(type: .bedrijfsarts, organisation: "Arbodienst Voorbeeld", ura: try URANumber("90000789"))
        let byArbo = try Self.signing(rig, as: "arbo").receipt(answering: envelope, bytes: notice, outcome: .accepted, from: arboParty)
        for identities in [IdentityPolicy.uziOnly, .testMode] {
            #expect(throws: DeliveryFailure.self) { try intake(identities).accept(byArbo, context: DeliveryRig.context) }
        }
        // The employer's own receipt: its entry has no URA or AGB, so outside test mode nothing
        // can match it positively; in test mode its organisation name does.
        let byEmployer = try Self.signing(rig, as: "employer").receipt(
            answering: envelope, bytes: notice, outcome: .accepted, from: envelope.receiver)
        #expect(throws: DeliveryFailure.self) { try intake(.uziOnly).accept(byEmployer, context: DeliveryRig.context) }
        #expect(try rig.store.record(queued.id)?.state == .delivered)
        #expect(try intake(.testMode).accept(byEmployer, context: DeliveryRig.context).state == .acknowledged)
    }

    @Test(
        arguments: [
            ("expired", "chain.pem", "expired on"),
            ("untrusted", "untrusted-ca.pem", "does not chain to a trusted anchor"),
            ("sign-only", "chain.pem", "does not allow keyEncipherment"),
            ("employer", nil, "does not chain to a trusted anchor"),
        ] as [(String, String?, String)])
    func anUnusableSMIMECertificateBlocksTheRecordAndNothingIsMailed(party: String, intermediate: String?, reason: String) async throws {
        let rig = try DeliveryRig()
        let sink = try rig.startSMTPSink()
        // The recipient's certificate as it was handed over: followed by its issuer, or (the
        // employer here) alone, without the intermediate it needs.
        var bundle = try Data(contentsOf: rig.pki.appendingPathComponent("\(party).pem"))
        if let intermediate { bundle += try Data(contentsOf: rig.pki.appendingPathComponent(intermediate)) }
        let certificate = rig.folder.appendingPathComponent("\(party)-smime.pem")
        try bundle.write(to: certificate)
        let entry = SMTPDeliveryTests.employer(port: sink.port).replacingOccurrences(
            of: Repository.pki.appendingPathComponent("employer-smime.pem").path, with: certificate.path)
        try rig.configure(recipients: entry)
        try rig.grantConsent(["employer"])
        let queued = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "employer", type: .werkgever)
        _ = try await rig.worker().deliverDue()
        let record = try #require(try rig.store.record(queued.id))
        #expect(record.state == .blocked, "\(record.state)")
        #expect(record.lastError?.hasPrefix("smime-certificate-invalid: employer: ") == true, "\(record.lastError ?? "")")
        #expect(record.lastError?.contains(reason) == true, "\(record.lastError ?? "")")
        #expect(rig.mails(in: sink.mailbox).isEmpty)
        #expect(rig.transcript(of: sink.mailbox).isEmpty)
    }

    /// A referral's return letters go to the practice its signer proved, by the sender's URA.
    /// An AGB written beside that URA proves nothing, so a directory entry known only by
    /// that AGB (another practice, or this one before its URA was added) does not become the
    /// trajectory's referrer.
    @Test func aReferrerIsFoundByTheURAItsSignerProvedNotByAnAGBBesideIt() async throws {
        let centre = try ServeTests.Centre(
            recipients: """
                  - id: practice-known-by-agb
                    name: Praktijk Elders
                    type: huisarts
                    agb: "01012345"
                    https:
                      url: https://localhost:1/v1/messages
                      server_anchors: \(Repository.pki.appendingPathComponent("ca.pem").path)
                """)
        try await centre.start()
        let referral = try Data(contentsOf: ServeTests.referral)
        let answer = try centre.post(referral, as: "gp")
        #expect(answer.status == 200 && answer.body.contains("<Accepted"), "\(answer.body)")
        let opened = try #require(try centre.rig.store.trajectories(limit: 5).first)
        #expect(opened.referrerRecipientID == nil)
    }
}
