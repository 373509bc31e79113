import Foundation
import KoerierModel
import KoerierSecurity
import KoerierTestSupport
import KoerierXML
import Testing

@Suite(.ownThreads) struct SignVerifyTests {
    private let codec = TestHierarchy.codec
    private let verifier = SignatureVerifier(trust: TestHierarchy.trust)

    private func sign(_ message: Message, as party: String) throws -> Data {
        let document = try codec.decodeKeepingDocument(try codec.encode(message)).document
        return try Signer(identity: try TestHierarchy.identity(party)).sign(document)
    }

    @Test(arguments: Fixtures.allKinds, ["centre", "centre-ec"])
    func everyKindSignsAndVerifiesWithRSAAndECDSA(_ message: Message, _ party: String) throws {
        let signed = try sign(message, as: party)
        let (decoded, document) = try codec.decodeKeepingDocument(signed)
        #expect(decoded == message, "the signature must not change the message")
        let signer = try verifier.verify(document)
        #expect(signer.careIdentifierKind == "URA" && signer.careIdentifier == "90000456")
        #expect(signer.algorithm == (party == "centre" ? .rsaSHA256 : .ecdsaP256SHA256))
        #expect(signer.organisation == "Stress en Burn-out Centrum Haaglanden")
    }

    @Test func anyChangeAfterSigningIsDetected() throws {
        let signed = try sign(.returnLetter(Fixtures.returnLetter()), as: "centre")
        let text = String(decoding: signed, as: UTF8.self)
        for (original, replacement) in [
            ("Slaapt beter.", "Slaapt slecht."), ("<Total>7</Total>", "<Total>8</Total>"),
            ("ZD20260302007", "ZD20260302008"),
        ] {
            #expect(text.contains(original))
            let tampered = Data(text.replacingOccurrences(of: original, with: replacement).utf8)
            let document = try codec.decodeKeepingDocument(tampered).document
            #expect(throws: SignatureError.self) { try verifier.verify(document) }
            do {
                _ = try verifier.verify(document)
            } catch {
                #expect(error.reason == .tamperedDigest, "\(original)")
            }
        }
    }

    @Test func theEnvelopeSenderMustBeTheSigner() throws {
        let letter = try sign(.returnLetter(Fixtures.returnLetter()), as: "centre")
        let (message, document) = try codec.decodeKeepingDocument(letter)
        let signer = try verifier.verify(document)
        try verifier.requireSender(message.envelope.sender, matches: signer)

        let byGP = try sign(.returnLetter(Fixtures.returnLetter()), as: "gp")
        let (gpMessage, gpDocument) = try codec.decodeKeepingDocument(byGP)
        let gpSigner = try verifier.verify(gpDocument)
        #expect(throws: SignatureError(.senderMismatch, "the envelope's sender URA (90000456) is not the signer's (90000123)")) {
            try verifier.requireSender(gpMessage.envelope.sender, matches: gpSigner)
        }
    }

    @Test func aSignedMessageIsNotSignedTwice() throws {
        let signed = try sign(.receipt(Fixtures.receipt()), as: "centre")
        let document = try codec.decodeKeepingDocument(signed).document
        #expect(throws: SignatureError.self) { try Signer(identity: try TestHierarchy.identity("centre")).sign(document) }
    }

    @Test(arguments: [("weak", SignatureError.Reason.weakKey), ("no-signing", .keyUsage)])
    func unfitKeysAreRefusedForSigning(_ party: String, _ reason: SignatureError.Reason) {
        #expect {
            try TestHierarchy.identity(party)
        } throws: { error in
            (error as? SignatureError)?.reason == reason
        }
    }

    @Test func aKeyMustMatchItsCertificate() {
        #expect {
            try SigningIdentity(keyFile: TestHierarchy.file("gp.key"), certificateFile: TestHierarchy.file("centre.pem"))
        } throws: { error in
            (error as? SignatureError)?.reason == .badKey
        }
    }

    @Test(arguments: [("expired", SignatureError.Reason.expired), ("untrusted", .untrustedChain), ("revoked", .revoked)])
    func certificatesOutsideTheTrustAreRefused(_ party: String, _ reason: SignatureError.Reason) throws {
        let signed = try sign(.returnLetter(Fixtures.returnLetter()), as: party)
        let document = try codec.decodeKeepingDocument(signed).document
        #expect {
            try verifier.verify(document)
        } throws: { error in
            (error as? SignatureError)?.reason == reason
        }
    }

    @Test func aSignerWhoseCertificateIsNotValidYetIsRefused() throws {
        let signed = try sign(.returnLetter(Fixtures.returnLetter()), as: "centre")
        let document = try codec.decodeKeepingDocument(signed).document
        #expect(try verifier.verify(document).careIdentifier == "90000456")
        // The same signature judged at a moment before the signer's certificate began (without
        // the CRL, which did not exist then either).
        let beforeIssue = Date().addingTimeInterval(-30 * 86_400)
        let withoutCRL = SignatureVerifier(trust: try TrustStore(anchorsFile: TestHierarchy.file("ca.pem")))
        #expect {
            try withoutCRL.verify(document, at: beforeIssue)
        } throws: { error in
            (error as? SignatureError)?.reason == .notYetValid
        }
    }

    @Test func revocationIsCheckedOnlyWithACRL() throws {
        let signed = try sign(.returnLetter(Fixtures.returnLetter()), as: "revoked")
        let document = try codec.decodeKeepingDocument(signed).document
        let withoutCRL = SignatureVerifier(trust: try TrustStore(anchorsFile: TestHierarchy.file("ca.pem")))
        #expect(try withoutCRL.verify(document).careIdentifier == "90000123")
    }

    @Test func aTrustStoreNeedsAnchors() {
        #expect(throws: TrustStore.LoadError.self) { try TrustStore(anchorsPEM: Data("not a certificate".utf8)) }
    }

    @Test(arguments: [
        "http://www.w3.org/2000/09/xmldsig#hmac-sha1", "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256",
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1", "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
    ])
    func hmacAndSHA1MethodsAreRefused(_ method: String) throws {
        let signed = String(decoding: try sign(.returnLetter(Fixtures.returnLetter()), as: "centre"), as: UTF8.self)
        let altered = signed.replacingOccurrences(of: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", with: method)
        #expect(altered != signed)
        let document = try codec.decodeKeepingDocument(Data(altered.utf8)).document
        #expect {
            try verifier.verify(document)
        } throws: { error in
            (error as? SignatureError)?.reason == .weakAlgorithm
        }
    }

    @Test func aSHA1DigestIsRefused() throws {
        let signed = String(decoding: try sign(.returnLetter(Fixtures.returnLetter()), as: "centre"), as: UTF8.self)
        let altered = signed.replacingOccurrences(
            of: "http://www.w3.org/2001/04/xmlenc#sha256", with: "http://www.w3.org/2000/09/xmldsig#sha1")
        let document = try codec.decodeKeepingDocument(Data(altered.utf8)).document
        #expect {
            try verifier.verify(document)
        } throws: { error in
            (error as? SignatureError)?.reason == .weakAlgorithm
        }
    }
}
