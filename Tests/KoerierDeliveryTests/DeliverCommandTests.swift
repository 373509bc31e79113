import Foundation
import KoerierModel
import KoerierSecurity
import KoerierServer
import KoerierTestSupport
import KoerierXML
import Testing

/// The delivery commands through the real binary, against real peers on loopback.
@Suite(.serialized, .ownThreads) struct DeliverCommandTests {
    @Test func consentEnqueueDeliverAndALaterReceiptThroughTheCLI() async throws {
        let rig = try DeliveryRig()
        let sink = try rig.startSMTPSink()
        let received = Received()
        let responder = try rig.receiptingResponder(as: "gp", received: received)
        let port = try await rig.startListener(as: "gp") { await responder.respond($0) }
        try rig.configure(recipients: HTTPSDeliveryTests.gp(port: port) + SMTPDeliveryTests.employer(port: sink.port))
        let config = rig.folder.appendingPathComponent("koerier.yaml").path
        let letter = Repository.signedSamples.appendingPathComponent("return-letter-fase-2-rsa.xml").path

        // The letters' trajectory, and a consent document from the record system naming the employer.
        let trajectory = try rig.grantConsent([]).trajectoryID
        let document = try ConsentTests.signedDocument(
            in: rig.folder, name: "consent", trajectory: trajectory, replacing: 2, parties: ["employer"])
        let consent = try ProcessRunner.koerier([
            "consent", "import", "--config", config, document.document.path, "--signature", document.signature.path,
        ])
        #expect(consent.exitCode == 0 && consent.stdout.hasSuffix(": employer\n"), "\(consent.stderr)")
        #expect(try ProcessRunner.koerier(["enqueue", "--config", config, "--to", "gp-de-linde", letter]).exitCode == 0)
        #expect(try ProcessRunner.koerier(["enqueue", "--config", config, "--to", "employer", letter]).exitCode == 0)
        let unknown = try ProcessRunner.koerier(["enqueue", "--config", config, "--to", "nobody", letter])
        #expect(unknown.exitCode == 1 && unknown.stderr.contains("no recipient 'nobody'"))

        let deliver = try await Task.detached { try ProcessRunner.koerier(["deliver", "--once", "--config", config]) }.value
        #expect(deliver.exitCode == 0 && deliver.stdout == "handled 2: acknowledged 1, delivered 1\n", "\(deliver.stdout)\(deliver.stderr)")
        #expect(received.all.count == 1)
        let mail = try #require(rig.mails(in: sink.mailbox).first)

        // The employer's receipt for the notice it got, handed to `koerier receipt`.
        let notice = try SMTPDeliveryTests.attachment(of: try SMTPDeliveryTests.openMail(mail, in: rig.folder))
        let envelope = try rig.codec.decode(notice).envelope
        let employer = try SigningIdentity(
            keyFile: Repository.pki.appendingPathComponent("employer.key"),
            certificateFile: Repository.pki.appendingPathComponent("employer.pem"),
            chainFile: Repository.pki.appendingPathComponent("chain.pem"))
        let receiptFile = rig.folder.appendingPathComponent("receipt.xml")
        try MessageSigning(codec: rig.codec, signer: Signer(identity: employer))
            .receipt(answering: envelope, bytes: notice, outcome: .accepted, from: envelope.receiver).write(to: receiptFile)
        let accepted = try ProcessRunner.koerier(["receipt", "--config", config, receiptFile.path])
        #expect(accepted.exitCode == 0 && accepted.stdout.hasSuffix(": acknowledged\n"), "\(accepted.stderr)")
        let wrong = try ProcessRunner.koerier(["receipt", "--config", config, letter])
        #expect(wrong.exitCode == 1 && wrong.stderr.contains("not a receipt"))

        let status = try ProcessRunner.koerier(["status", "--config", config, "--json"])
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let states = (summary["outbound"] as? [[String: Any]] ?? []).compactMap { $0["state"] as? String }
        #expect(states == ["acknowledged", "acknowledged"], "\(status.stdout)")
        #expect(try ProcessRunner.koerier(["audit", "verify", "--config", config]).stdout == "audit log intact\n")
        #expect(try ProcessRunner.koerier(["deliver", "--once", "--config", config]).stdout == "nothing due\n")
    }

    @Test func deadRecordsGoBackWithRetryDeadAndThenArriveOnce() async throws {
        let rig = try DeliveryRig()
        let received = Received()
        let responder = try rig.receiptingResponder(as: "gp", received: received)
        let transmissions = Received()
        let accepting = Switch()
        let port = try await rig.startListener(as: "gp") { request in
            transmissions.add(request.body)
            guard accepting.isOn else { return ListenerAnswer(status: 422, body: Data("patient not registered yet\n".utf8)) }
            return await responder.respond(request)
        }
        try rig.configure(recipients: HTTPSDeliveryTests.gp(port: port))
        let config = rig.folder.appendingPathComponent("koerier.yaml").path
        let letter = Repository.signedSamples.appendingPathComponent("return-letter-fase-2-rsa.xml").path
        #expect(try ProcessRunner.koerier(["enqueue", "--config", config, "--to", "gp-de-linde", letter]).exitCode == 0)
        let first = try await Task.detached { try ProcessRunner.koerier(["deliver", "--once", "--config", config]) }.value
        #expect(first.stdout == "handled 1: dead 1\n", "\(first.stdout)\(first.stderr)")

        // The practice registered the patient: ops put the dead letter back, and it goes.
        accepting.turnOn()
        let retry = try ProcessRunner.koerier(["retry", "--dead", "--config", config])
        #expect(retry.exitCode == 0 && retry.stdout.hasSuffix(": queued again\n"), "\(retry.stdout)\(retry.stderr)")
        let again = try await Task.detached { try ProcessRunner.koerier(["deliver", "--once", "--config", config]) }.value
        #expect(again.stdout == "handled 1: acknowledged 1\n", "\(again.stdout)\(again.stderr)")
        #expect(transmissions.all.count == 2 && received.all.count == 1)
        #expect(try ProcessRunner.koerier(["retry", "--dead", "--config", config]).stdout == "no dead records\n")
        let audit = try ProcessRunner.koerier(["audit", "list", "--config", config, "--json"])
        let events = try #require(try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [[String: Any]])
        #expect(events.compactMap { $0["event"] as? String }.contains("retry"), "\(audit.stdout)")
    }
}

/// A switch the test turns on once, read from the listener's threads.
final class Switch: @unchecked Sendable {
    private let lock = NSLock()
    private var on = false
    func turnOn() { lock.withLock { on = true } }
    var isOn: Bool { lock.withLock { on } }
}
