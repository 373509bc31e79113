import Foundation
import KoerierModel
import KoerierSecurity
import KoerierServer
import KoerierTestSupport
import Testing

/// Separate keys per purpose (issue 12, point 9): XML signing, mutual TLS and S/MIME each
/// with a key of its own, seen from the real peers that receive them.
@Suite(.serialized, .ownThreads) struct KeysPerPurposeTests {
    @Test func theXMLTheTLSAndTheMailKeysAreEachTheOneConfiguredForThatPurpose() async throws {
        let rig = try DeliveryRig()
        rig.identity = "centre-ec"  // signs XML (ECDSA)
        rig.purposeKeys = ["tls": "centre", "smime": "centre-mail"]
        let clients = Received()
        let received = Received()
        let responder = try rig.receiptingResponder(as: "arbo", received: received)
        let port = try await rig.startListener(as: "arbo") { request in
            clients.add(request.clientCertificateDER ?? Data())
            return await responder.respond(request)
        }
        let sink = try rig.startSMTPSink()
        try rig.configure(recipients: HTTPSDeliveryTests.arbo(port: port) + SMTPDeliveryTests.employer(port: sink.port))
        try rig.grantConsent(["arbo", "employer"])
        _ = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "arbo", type: .bedrijfsarts)
        _ = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "employer", type: .werkgever)
        #expect(try await rig.worker().deliverDue().handled == [.acknowledged: 1, .delivered: 1])

        func certificate(_ party: String) throws -> Data {
            try #require(Certificate.loadPEM(try Data(contentsOf: Repository.pki.appendingPathComponent("\(party).pem"))).first).der
        }
        // The arbo service's copy is signed again, at enqueue, with the XML key (ECDSA) ...
        let copy = try #require(received.all.first)
        #expect(String(decoding: copy, as: UTF8.self).contains("xmldsig-more#ecdsa-sha256"))
        // ... and reached it over TLS with the TLS key's certificate.
        #expect(clients.all.first == (try certificate("centre")))

        // The mail is signed with the S/MIME key: the signer openssl finds is that certificate.
        let mail = try #require(rig.mails(in: sink.mailbox).first)
        _ = try SMTPDeliveryTests.openMail(mail, in: rig.folder)
        let mailFile = rig.folder.appendingPathComponent("mail.eml")
        try mail.write(to: mailFile)
        let pki = Repository.pki
        let decrypted = try ProcessRunner.run(
            "/usr/bin/openssl",
            [
                "cms", "-decrypt", "-in", mailFile.path, "-recip", pki.appendingPathComponent("employer.pem").path, "-inkey",
                pki.appendingPathComponent("employer.key").path, "-out", rig.folder.appendingPathComponent("signed.eml").path,
            ])
        #expect(decrypted.exitCode == 0, "\(decrypted.stderr)")
        let signer = rig.folder.appendingPathComponent("mail-signer.pem")
        let verified = try ProcessRunner.run(
            "/usr/bin/openssl",
            [
                "cms", "-verify", "-in", rig.folder.appendingPathComponent("signed.eml").path, "-CAfile",
                pki.appendingPathComponent("ca.pem").path, "-signer", signer.path, "-out", "/dev/null",
            ])
        #expect(verified.exitCode == 0, "\(verified.stderr)")
        #expect(try #require(Certificate.loadPEM(try Data(contentsOf: signer)).first).der == (try certificate("centre-mail")))
    }

    @Test func aDaemonRefusesAPurposeKeyOthersMayReadAndNamesIt() throws {
        let rig = try FileAccessTests.strictRig(purposeKeys: ["smime": "centre-mail"])
        try FileAccessTests.chmod(rig.pki.appendingPathComponent("centre.key"), 0o600)
        let mailKey = rig.pki.appendingPathComponent("centre-mail.key")
        try FileAccessTests.chmod(mailKey, 0o644)
        let refused = try ProcessRunner.koerier(["deliver", "--once", "--config", rig.folder.appendingPathComponent("koerier.yaml").path])
        #expect(refused.exitCode != 0 && refused.stderr.contains("\(mailKey.path): a secret has mode 644"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("centre.key"), "the XML and TLS key is owner-only: \(refused.stderr)")
        #expect(
            rig.configuration.identity?.tls.key.lastPathComponent == "centre.key", "a purpose without a key of its own takes identity.key")
    }

    /// Outside test mode a daemon whose own certificate names no URA in the UZI otherName
    /// does not start: its receipts could not name it, nor partners bind them to it.
    @Test func aDaemonRefusesAnIdentityWithoutAUZIName() throws {
        let rig = try FileAccessTests.strictRig(identity: "legacy-serial")
        try FileAccessTests.chmod(rig.pki.appendingPathComponent("legacy-serial.key"), 0o600)
        let refused = try ProcessRunner.koerier(["deliver", "--once", "--config", rig.folder.appendingPathComponent("koerier.yaml").path])
        #expect(refused.exitCode != 0 && refused.stderr.contains("names no URA in a UZI server otherName"), "\(refused.stderr)")
    }
}
