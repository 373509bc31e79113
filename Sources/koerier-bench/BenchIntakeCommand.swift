import ArgumentParser
import Foundation
import KoerierConfig
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierServer
import KoerierStore
import KoerierWorkflow
import KoerierXML

struct BenchIntakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract:
            "Accepted referrals/s over mutual TLS with 1 and 16 clients, against the same listener answering without storing or verifying.",
        discussion: """
            The intake is the one `koerier serve` runs: each referral is size-checked, parsed, \
            validated, its signature and chain verified, the TLS client matched to the signer, \
            stored durably with its trajectory and consent, and answered with a signed receipt \
            that is kept too. The baseline, in the same run, is the same listener (Hummingbird, \
            mutual TLS) answering every POST with a fixed receipt: no parsing, verifying or \
            storing. Clients are plain libcurl loops with the GP's TLS client certificate, each \
            request on a new connection, on both sides. The JSON line's ratio is the 16-client one.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Referrals per measurement.")
    var messages = 300

    @Option(help: "Concurrent clients for the main measurement.")
    var clients = 16

    func run() async throws {
        let (configuration, codec) = try global.loadCodec()
        let pki = configuration.samplesDirectory.appendingPathComponent("pki")
        let scratch = try BenchLoopback.scratchFolder(next: configuration.storePath)
        defer { BenchLoopback.removeScratch(scratch) }

        // The centre's intake on a scratch store.
        let keyFile = scratch.appendingPathComponent("payload.keys")
        try PayloadKeyRing.createKeyFile(at: keyFile)
        let store = try MessageStores.embedded(
            path: scratch.appendingPathComponent("intake.sqlite").path, keys: try PayloadKeyRing.load(file: keyFile))
        let trust = try TrustStore(anchorsFile: pki.appendingPathComponent("ca.pem"), crlFile: pki.appendingPathComponent("crl.pem"))
        let verifier = SignatureVerifier(trust: trust)
        func signing(_ party: String) throws -> MessageSigning {
            MessageSigning(
                codec: codec,
                signer: Signer(
                    identity: try SigningIdentity(
                        keyFile: pki.appendingPathComponent("\(party).key"), certificateFile: pki.appendingPathComponent("\(party).pem"),
                        chainFile: pki.appendingPathComponent("chain.pem"))))
        }
        let centre = try signing("centre")
        let directory = RecipientDirectory(recipients: [])
        let intake = IntakeProcessor(
            store: store, directory: directory,
            receipts: ReceiptIntake(store: store, directory: directory, receipts: ReceiptCheck(codec: codec, verifier: verifier)),
            accessPoint: "bench")
        let responder = ReceiptingResponder(
            codec: codec, verifier: verifier, signing: centre,
            previousReceipt: { try? store.issuedReceipt(for: $0.value) },
            keepReceipt: { receipt, id in try store.recordIssuedReceipt(receipt, for: id.value, now: Date()) },
            accept: { message, bytes, signer in try intake.accept(message, bytes: bytes, sender: signer.organisation ?? signer.subject) })

        // Distinct referrals, signed by the GP; and one fixed receipt for the baseline.
        let sample = try Data(contentsOf: configuration.samplesDirectory.appendingPathComponent("signed/referral-huisarts-rsa.xml"))
        guard case .referral(let template) = try codec.decode(sample) else { throw CommandFailure("the sample is not a referral") }
        let gp = try signing("gp")
        print("signing \(messages * 2) distinct referrals …")
        let referrals = try (0..<(messages * 2)).map { _ -> Data in
            var referral = template
            referral.envelope.messageID = .generate()
            return try gp.signedXML(.referral(referral))
        }
        let fixedReceipt = try centre.receipt(
            answering: template.envelope, bytes: sample, outcome: .accepted, from: template.envelope.receiver)

        let serverChain = try BenchLoopback.concatenate(
            [pki.appendingPathComponent("centre.pem"), pki.appendingPathComponent("chain.pem")],
            into: scratch, "centre-chain.pem")
        let tls = ListenerTLS(
            certificateChain: serverChain, key: pki.appendingPathComponent("centre.key"),
            clientAnchors: pki.appendingPathComponent("ca.pem"))
        let realPort = try await BenchLoopback.startListener(tls: tls) { await responder.respond($0) }
        let barePort = try await BenchLoopback.startListener(tls: tls) { _ in ListenerAnswer(status: 200, body: fixedReceipt) }

        let gpChain = try BenchLoopback.concatenate(
            [pki.appendingPathComponent("gp.pem"), pki.appendingPathComponent("chain.pem")],
            into: scratch, "gp-chain.pem")
        let transport = HTTPSTransport(
            credentials: ClientCredentials(certificateChain: gpChain, key: pki.appendingPathComponent("gp.key")),
            timeouts: TransportTimeouts(connect: 10, total: 60))
        let anchors = pki.appendingPathComponent("ca.pem")
        let real = HTTPSTarget(url: URL(string: "https://localhost:\(realPort)/v1/messages")!, serverAnchors: anchors)
        let bare = HTTPSTarget(url: URL(string: "https://localhost:\(barePort)/v1/messages")!, serverAnchors: anchors)
        let accepted: @Sendable (TransportOutcome) -> Bool = { outcome in
            if case .answered(200..<300, let body, _) = outcome { return body.range(of: Data("<Accepted".utf8)) != nil }
            return false
        }
        let single = Array(referrals.prefix(messages / 4))
        let many = Array(referrals.suffix(messages))

        let bare1 = try await BenchLoopback.rate(single, clients: 1) { accepted(transport.post($0, to: bare)) }
        let real1 = try await BenchLoopback.rate(single, clients: 1) { accepted(transport.post($0, to: real)) }
        print(String(format: "1 client:   %6.1f accepted/s; bare listener %6.1f/s (%.2f×)", real1, bare1, real1 / bare1))
        let bareMany = try await BenchLoopback.rate(many, clients: clients) { accepted(transport.post($0, to: bare)) }
        let realMany = try await BenchLoopback.rate(many, clients: clients) { accepted(transport.post($0, to: real)) }
        print(
            String(format: "%d clients: %6.1f accepted/s; bare listener %6.1f/s (%.2f×)", clients, realMany, bareMany, realMany / bareMany))
        let stored = try store.trajectories(limit: 100_000).count
        guard stored == single.count + many.count else {
            throw CommandFailure("\(stored) trajectories stored for \(single.count + many.count) referrals")
        }

        let result = BenchResult(
            bench: "intake", value: realMany,
            baseline: "same mTLS listener answering a fixed receipt without parsing, verifying or storing, \(clients) clients",
            baselineValue: bareMany,
            extra: [
                "clients": clients, "value_1_client": (real1 * 10).rounded() / 10,
                "baseline_1_client": (bare1 * 10).rounded() / 10, "ratio_1_client": ((real1 / bare1) * 1000).rounded() / 1000,
                "messages": many.count,
            ])
        print(try result.jsonLine())
    }
}
