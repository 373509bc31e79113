import Foundation
import KoerierModel
import KoerierSecurity
import KoerierTestSupport
import KoerierXML
import Testing

/// Who a certificate names: the UZI register's subjectAltName otherName (2.5.5.5), and the
/// TEST ONLY subject serialNumber only in test mode.
@Suite(.ownThreads) struct IdentityTests {
    private let codec = TestHierarchy.codec

    private func certificate(_ party: String) throws -> Certificate {
        try #require(Certificate.loadPEM(try Data(contentsOf: TestHierarchy.file("\(party).pem"))).first)
    }

    private func sign(_ message: Message, as party: String) throws -> XMLDocument {
        let document = try codec.decodeKeepingDocument(try codec.encode(message)).document
        let signed = try Signer(identity: try TestHierarchy.identity(party)).sign(document)
        return try codec.decodeKeepingDocument(signed).document
    }

    @Test func aPKIInitCertificateNamesURAUZINumberAndAGBInItsOtherName() throws {
        let gp = try #require(try certificate("gp").uziName)
        #expect(gp.issuerOID == "2.16.528.1.1003.1.3.5.5.2" && gp.version == "1")
        #expect(gp.uziNumber == "00012301" && gp.cardType == "S" && gp.subscriberNumber == "90000123")
        #expect(gp.role == "00.000" && gp.agb == "01012345" && gp.serverURA == "90000123")
        let centre = try #require(try certificate("centre-ec").uziName)
        #expect(centre.serverURA == "90000456" && centre.uziNumber == "00045602" && centre.agb == nil)
        #expect(try certificate("employer").uziName == nil)
        #expect(try certificate("legacy-serial").uziName == nil)

        // What the verifier reports for a signature, outside test mode.
        let verifier = SignatureVerifier(trust: TestHierarchy.trust, identities: .uziOnly)
        let signer = try verifier.verify(try sign(.referral(Fixtures.referral()), as: "gp"))
        #expect(signer.careIdentifierKind == "URA" && signer.careIdentifier == "90000123")
        #expect(signer.uzi?.uziNumber == "00012301" && signer.agb == "01012345")
    }

    @Test func theOtherNameParserTakesTheRegistersFormOnly() {
        let good = UZIName("2.16.528.1.1003.1.3.5.5.2-1-12345678-S-90000123-00.000-00000000")
        #expect(good?.serverURA == "90000123" && good?.uziNumber == "12345678" && good?.agb == nil)
        #expect(UZIName("2.16.528.1.1003.1.3.5.2.1-1-000012345-Z-90000123-01.015-01012345")?.serverURA == nil)
        for malformed in [
            "",
            "2.16.528.1.1003.1.3.5.5.2-1-12345678-S-90000123-00.000",  // six fields
            "2.16.528.1.1003.1.3.5.5.2-1-12345678-S-90000123-00.000-00000000-1",  // eight
            "2.16.528.1.1003.1.3.5.5.2-1-12345678-S-90000123-00-000-00000000",  // role with a dash
            "2.16.528.1.1003.1.3.5.5.2-1-12345678-S-9000012-00.000-00000000",  // URA of 7 digits
            "2.16.528.1.1003.1.3.5.5.2-1-12345678-S-9000012A-00.000-00000000",  // URA not digits
            "2.16.528.1.1003.1.3.5.5.2-1-12345678-S-90000123-00.000-0101234",  // AGB of 7 digits
            "2.16.528.1.1003.1.3.5.5.2-1-12345678-X-90000123-00.000-00000000",  // unknown pastype
            "2.16.528.1.1003.1.3.5.5.2-1-12345678-s-90000123-00.000-00000000",  // lower case
            "2.16.528.1.1003.1.3.5.5.2-1--S-90000123-00.000-00000000",  // no UZI number
            "2.16.528.1.1003.1.3.5.5.2-v1-12345678-S-90000123-00.000-00000000",  // version not digits
            "2.16.528..1003-1-12345678-S-90000123-00.000-00000000",  // empty OID arc
            "urn:oid:2.16.528-1-12345678-S-90000123-00.000-00000000",  // OID not dotted digits
            "2.16.528.1.1003.1.3.5.5.2-1-12345678-S-90000123-0.0000-00000000",  // role 1.4 digits
            "2.16.528.1.1003.1.3.5.5.2-1-12345678-S-９0000123-00.000-00000000",  // non-ASCII digit
            "2.16.528.1.1003.1.3.5.5.2-1-12345678-S- 90000123-00.000-00000000",  // space
            "1.2.3.4-1-12345678-S-90000123-00.000-00000000",  // an issuer outside the UZI register's arc
            "2.16.528.1.1003.1.3.50-1-12345678-S-90000123-00.000-00000000",  // an arc that only starts alike
        ] {
            #expect(UZIName(malformed) == nil, "\(malformed)")
        }
    }

    @Test func aSubjectSerialNumberNamesAPartyOnlyInTestMode() throws {
        let legacy = try certificate("legacy-serial")
        #expect(legacy.careIdentifier(.uziOnly) == nil)
        #expect(legacy.careIdentifier(.testMode).map { "\($0.kind) \($0.value)" } == "URA 90000123")
        // With both forms the otherName wins, in either mode.
        #expect(try certificate("gp").careIdentifier(.uziOnly).map { "\($0.kind) \($0.value)" } == "URA 90000123")

        // A referral from GP De Linde (URA 90000123), signed with the serialNumber-only certificate.
        var referral = Fixtures.referral()
        referral.envelope.sender.ura = try URANumber("90000123")
        let document = try sign(.referral(referral), as: "legacy-serial")
        let production = SignatureVerifier(trust: TestHierarchy.trust, identities: .uziOnly)
        let signer = try production.verify(document)
        #expect(signer.careIdentifier == nil)
        #expect(throws: SignatureError.self) { try production.requireSender(referral.envelope.sender, matches: signer) }
        do {
            try production.requireSender(referral.envelope.sender, matches: signer)
        } catch {
            #expect(error.reason == .senderMismatch && error.message.contains("no UZI identity"), "\(error)")
        }

        let testMode = SignatureVerifier(trust: TestHierarchy.trust, identities: .testMode)
        let testSigner = try testMode.verify(document)
        #expect(testSigner.careIdentifierKind == "URA" && testSigner.careIdentifier == "90000123")
        try testMode.requireSender(referral.envelope.sender, matches: testSigner)
    }

    @Test func organisationNamesNameASignerOnlyInTestMode() throws {
        // The employer's certificate names no identifier at all; its receipt's sender is the employer.
        let answered = Fixtures.id("3f1c2a9e-5b7d-4e21-9a0c-7d1e2f3a4b5c")
        let receipt = Receipt(
            envelope: Fixtures.envelope(.ontvangstbevestiging, from: Fixtures.employer, to: Fixtures.centre, inReplyTo: answered),
            answeredMessageID: answered,
            answeredDigest: try SHA256Hex(String(repeating: "ab", count: 32)), outcome: .accepted,
            receivedAt: Fixtures.timestamp("2026-06-08T11:14:59.500+02:00"))
        let document = try sign(.receipt(receipt), as: "employer")
        let production = SignatureVerifier(trust: TestHierarchy.trust, identities: .uziOnly)
        #expect(throws: SignatureError.self) { try production.requireSender(Fixtures.employer, matches: try production.verify(document)) }
        let testMode = SignatureVerifier(trust: TestHierarchy.trust, identities: .testMode)
        try testMode.requireSender(Fixtures.employer, matches: try testMode.verify(document))
    }

    @Test func anAGBOnlySenderMatchesTheAGBInTheOtherName() throws {
        // Fixtures.gp names the practice by AGB only; gp.pem's otherName carries AGB 01012345.
        let referral = Fixtures.referral()
        #expect(referral.envelope.sender.ura == nil && referral.envelope.sender.agb?.value == "01012345")
        let verifier = SignatureVerifier(trust: TestHierarchy.trust, identities: .uziOnly)
        try verifier.requireSender(referral.envelope.sender, matches: try verifier.verify(try sign(.referral(referral), as: "gp")))
        // The arbo service's certificate has no AGB: the same envelope does not match it.
        #expect(throws: SignatureError.self) {
            try verifier.requireSender(
                referral.envelope.sender, matches: try verifier.verify(try self.sign(.referral(referral), as: "arbo")))
        }
    }
}
