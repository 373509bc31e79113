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
@Suite(.serialized) struct IdentityBindingTests {
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
}
