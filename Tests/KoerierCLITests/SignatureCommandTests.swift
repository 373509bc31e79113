import Foundation
import KoerierModel
import KoerierSecurity
import KoerierTestSupport
import KoerierXML
import Testing

/// `koerier sign`, `verify`, `validate --trust` and `pki init`, with the committed TEST ONLY
/// hierarchy (Samples/pki) and xmlsec1 (Debian) as the independent implementation.
@Suite(.ownThreads) struct SignatureCommandTests {
    private let config = Repository.config.path
    private let anchors = Repository.pki.appendingPathComponent("ca.pem").path
    private let crl = Repository.pki.appendingPathComponent("crl.pem").path
    private func pki(_ name: String) -> String { Repository.pki.appendingPathComponent(name).path }

    static let hostile: [(file: String, reason: String)] = {
        let table = (try? String(contentsOf: Repository.invalidSignedSamples.appendingPathComponent("README.md"), encoding: .utf8)) ?? ""
        return table.split(separator: "\n").filter { $0.hasPrefix("| `") }.map { row in
            let cells = row.split(separator: "|").map {
                $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            }
            return (cells[0], cells[2])
        }
    }()

    @Test func theTableCoversEveryHostileSignedSample() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Repository.invalidSignedSamples.path).filter {
            $0.hasSuffix(".xml")
        }
        #expect(Set(files) == Set(Self.hostile.map(\.file)))
        #expect(Self.hostile.count >= 7)
    }

    @Test(arguments: hostile.map(\.file))
    func hostileSignedSampleIsRefusedWithItsReason(_ file: String) throws {
        let reason = try #require(Self.hostile.first { $0.file == file }?.reason)
        let path = Repository.invalidSignedSamples.appendingPathComponent(file).path
        let result = try ProcessRunner.koerier(["verify", "--config", config, "--trust", anchors, "--crl", crl, path])
        #expect(result.exitCode == 1)
        #expect(result.stdout.hasPrefix(path + ":"))
        #expect(result.stdout.trimmingCharacters(in: .newlines).hasSuffix("[\(reason)]"), "\(result.stdout)")
    }

    @Test func validSignedSamplesVerifyAndNameTheirSigner() throws {
        let files = Repository.signedSampleFiles.map(\.path)
        #expect(files.count >= 5)
        let result = try ProcessRunner.koerier(["verify", "--config", config, "--trust", anchors, "--crl", crl] + files)
        #expect(result.exitCode == 0, "\(result.stdout)")
        #expect(
            result.stdout.split(separator: "\n").allSatisfy {
                $0.contains(": signed by /C=NL/O=") && $0.contains("(URA 900004") || $0.contains("(URA 90000123)")
            })
        let validate = try ProcessRunner.koerier(["validate", "--config", config, "--trust", anchors] + files)
        #expect(validate.exitCode == 0)
        let unsigned = try ProcessRunner.koerier([
            "validate", "--config", config, "--trust", anchors,
            Repository.samples.appendingPathComponent("receipt-accepted.xml").path,
        ])
        #expect(unsigned.exitCode == 1 && unsigned.stdout.hasSuffix("[unsigned]\n"))
    }

    @Test func xmllintAcceptsSignedSamples() throws {
        for file in Repository.signedSampleFiles {
            let kind = ["referral", "return-letter", "participation-notice", "receipt"].first { file.lastPathComponent.hasPrefix($0) }!
            let result = try ProcessRunner.run(
                "xmllint",
                [
                    "--noout", "--nonet", "--schema",
                    Repository.schemas.appendingPathComponent("\(kind).xsd").path, file.path,
                ])
            #expect(result.exitCode == 0, "\(file.lastPathComponent): \(result.stderr)")
        }
    }

    @Test(arguments: ["centre", "centre-ec"])
    func xmlsec1VerifiesWhatKoerierSigns(_ party: String) throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("signed.xml").path
        let sign = try ProcessRunner.koerier([
            "sign", "--config", config, "--key", pki("\(party).key"), "--cert", pki("\(party).pem"),
            "--chain", pki("chain.pem"), "--out", out,
            Repository.samples.appendingPathComponent("return-letter-intake.xml").path,
        ])
        #expect(sign.exitCode == 0, "\(sign.stderr)")
        #expect(!(sign.stdout + sign.stderr).contains("PRIVATE KEY"))
        // xmlsec1 gets only the trust anchor: the chain must come from the signature's KeyInfo.
        let xmlsec = try ProcessRunner.run("xmlsec1", ["--verify", "--trusted-pem", anchors, out])
        #expect(xmlsec.exitCode == 0, "\(xmlsec.stderr)")
        #expect(xmlsec.stderr.contains("OK"))
    }

    @Test func koerierVerifiesWhatXmlsec1Signs() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        var text = try String(contentsOf: Repository.samples.appendingPathComponent("referral-huisarts.xml"), encoding: .utf8)
        let template = """
            <Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>\
            <CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>\
            <SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>\
            <Reference URI=""><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>\
            <Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms>\
            <DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference></SignedInfo>\
            <SignatureValue/><KeyInfo><X509Data><X509Certificate/></X509Data></KeyInfo></Signature>
            """
        text = text.replacingOccurrences(of: "</Referral>", with: template + "</Referral>")
        let templateFile = folder.appendingPathComponent("template.xml")
        try text.write(to: templateFile, atomically: true, encoding: .utf8)
        let signed = folder.appendingPathComponent("signed.xml").path
        let xmlsec = try ProcessRunner.run(
            "xmlsec1",
            [
                "--sign", "--privkey-pem", "\(pki("gp.key")),\(pki("gp.pem")),\(pki("chain.pem"))",
                "--output", signed, templateFile.path,
            ])
        #expect(xmlsec.exitCode == 0, "\(xmlsec.stderr)")
        let verify = try ProcessRunner.koerier(["verify", "--config", config, "--trust", anchors, signed])
        #expect(verify.exitCode == 0, "\(verify.stdout)")
        #expect(verify.stdout.contains("(URA 90000123), RSA-SHA256"))
    }

    @Test func anInvalidMessageIsNotSigned() throws {
        let path = Repository.invalidSamples.appendingPathComponent("bsn-elfproef.xml").path
        let result = try ProcessRunner.koerier(["sign", "--config", config, "--key", pki("gp.key"), "--cert", pki("gp.pem"), path])
        #expect(result.exitCode == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("[bsn-elfproef]"))
        #expect(result.stderr.contains("not signed"))
    }

    @Test func unreadableAnchorsAreASetUpError() throws {
        let result = try ProcessRunner.koerier([
            "verify", "--config", config, "--trust", "/nonexistent/ca.pem",
            Repository.signedSampleFiles[0].path,
        ])
        #expect(result.exitCode == 2)
        #expect(result.stderr.contains("/nonexistent/ca.pem"))
    }

    @Test func pkiInitMakesALabelledTestHierarchy() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ProcessRunner.koerier(["pki", "init", folder.path])
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stdout.contains("TEST ONLY"))
        for name in [
            "ca.pem", "chain.pem", "gp.pem", "gp.key", "centre.pem", "centre-ec.pem", "arbo.pem", "employer.pem",
            "expired.pem", "untrusted.pem", "untrusted-ca.pem", "crl.pem", "README.txt", "employer-smime.pem", "sign-only.pem",
            "legacy-serial.pem",
        ] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), "\(name)")
        }
        let readme = try String(contentsOf: folder.appendingPathComponent("README.txt"), encoding: .utf8)
        #expect(readme.hasPrefix("TEST ONLY"))
        let subject = try ProcessRunner.run("openssl", ["x509", "-noout", "-subject", "-in", folder.appendingPathComponent("gp.pem").path])
        #expect(subject.stdout.contains("TEST ONLY"))
        // The leaf chains to the anchor through the intermediate, as openssl sees it.
        let chain = try ProcessRunner.run(
            "openssl",
            [
                "verify", "-CAfile", folder.appendingPathComponent("ca.pem").path, "-untrusted",
                folder.appendingPathComponent("chain.pem").path, folder.appendingPathComponent("gp.pem").path,
            ])
        #expect(chain.exitCode == 0, "\(chain.stdout)\(chain.stderr)")
    }

    @Test func aSignedReceiptMustAnswerTheMessageItNames() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let originalURL = Repository.signedSamples.appendingPathComponent("return-letter-fase-2-rsa.xml")
        let original = try Repository.data(originalURL)
        // The GP answers the centre's signed letter.
        let answered = Fixtures.id("2e3f4a5b-6c7d-4e8f-8091-a2b3c4d5e6f7")
        var gp = Fixtures.gp
        gp.ura = try URANumber("90000123")
        let receipt = Receipt(
            envelope: Envelope(
                messageID: Fixtures.id("7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b"), transactionID: try TransactionID("ZD20260302007"),
                created: Fixtures.timestamp("2026-06-08T11:15:03+02:00"), documentKind: .ontvangstbevestiging,
                sender: gp, receiver: Fixtures.centre, inReplyTo: answered),
            answeredMessageID: answered, answeredDigest: try SHA256Hex(ReceiptMatch.sha256Hex(original)),
            outcome: .accepted, receivedAt: Fixtures.timestamp("2026-06-08T11:15:02+02:00"))
        let codec = try MessageCodec(schemaDirectory: Repository.schemas)
        let unsigned = folder.appendingPathComponent("receipt.xml")
        try codec.encode(.receipt(receipt)).write(to: unsigned)
        let signed = folder.appendingPathComponent("receipt-signed.xml").path
        let sign = try ProcessRunner.koerier([
            "sign", "--config", config, "--key", pki("gp.key"), "--cert", pki("gp.pem"),
            "--chain", pki("chain.pem"), "--out", signed, unsigned.path,
        ])
        #expect(sign.exitCode == 0, "\(sign.stderr)")

        let matches = try ProcessRunner.koerier(["verify", "--config", config, "--answers", originalURL.path, signed])
        #expect(matches.exitCode == 0, "\(matches.stdout)\(matches.stderr)")
        #expect(matches.stdout.contains("answers 2e3f4a5b-6c7d-4e8f-8091-a2b3c4d5e6f7 (SHA-256 matches)"))

        let other = Repository.signedSamples.appendingPathComponent("return-letter-afsluiting-ecdsa.xml").path
        let mismatch = try ProcessRunner.koerier(["verify", "--config", config, "--answers", other, signed])
        #expect(mismatch.exitCode == 1)
        #expect(mismatch.stdout.hasSuffix("[receipt-mismatch]\n"))
    }

    @Test func withoutAnchorsVerificationIsASetUpError() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bare = folder.appendingPathComponent("koerier.yaml")
        try "schemas: \(Repository.schemas.path)\n".write(to: bare, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.koerier(["verify", "--config", bare.path, Repository.signedSampleFiles[0].path])
        #expect(result.exitCode == 2)
        #expect(result.stderr.contains("trust.anchors"))
    }
}
