import Foundation
import KoerierConfig
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierServer
import KoerierStore
import KoerierWorkflow
import KoerierXML

/// Helpers the network benchmarks share: an in-process listener on a free loopback port,
/// and plain concurrent client loops.
enum BenchLoopback {
    /// A signer for a party of the TEST ONLY hierarchy in `pki` (`PARTY.key`, `PARTY.pem`, `chain.pem`).
    static func signing(as party: String, pki: URL, codec: MessageCodec) throws -> MessageSigning {
        MessageSigning(
            codec: codec,
            signer: Signer(
                identity: try SigningIdentity(
                    keyFile: pki.appendingPathComponent("\(party).key"), certificateFile: pki.appendingPathComponent("\(party).pem"),
                    chainFile: pki.appendingPathComponent("chain.pem"))))
    }

    /// An embedded store of its own in the scratch folder.
    static func scratchStore(in scratch: URL, named name: String) throws -> any MessageStore {
        let keyFile = scratch.appendingPathComponent("\(name).keys")
        try PayloadKeyRing.createKeyFile(at: keyFile)
        return try MessageStores.embedded(
            path: scratch.appendingPathComponent("\(name).sqlite").path, keys: try PayloadKeyRing.load(file: keyFile))
    }

    /// A party's XML intake as `serve` runs it, on `store`: verify, store (a referral with its
    /// trajectory and consent, a letter in the inbound queue), answer with a signed receipt
    /// that is kept too; a message sent again gets its first receipt.
    static func xmlIntake(_ parts: IntakeParts, store: any MessageStore, codec: MessageCodec) -> ReceiptingResponder {
        ReceiptingResponder(
            codec: codec, verifier: parts.verifier, signing: parts.signing,
            previousReceipt: { try? store.issuedReceipt(for: $0.value) },
            accept: { message, bytes, signer, receipt in
                try parts.processor.accept(message, bytes: bytes, sender: signer.organisation ?? signer.subject, receipt: receipt)
            })
    }

    /// `count` distinct referrals (new ids) made from the signed sample and signed by the GP.
    static func signedReferrals(_ count: Int, configuration: KoerierConfiguration, codec: MessageCodec) throws -> (Referral, [Data]) {
        let sample = try Data(contentsOf: configuration.samplesDirectory.appendingPathComponent("signed/referral-huisarts-rsa.xml"))
        guard case .referral(let template) = try codec.decode(sample) else { throw CommandFailure("the sample is not a referral") }
        let gp = try signing(as: "gp", pki: configuration.samplesDirectory.appendingPathComponent("pki"), codec: codec)
        let referrals = try BenchProgress.map(count, "signing referrals") { _ -> Data in
            var referral = template
            referral.envelope.messageID = .generate()
            return try gp.signedXML(.referral(referral))
        }
        return (template, referrals)
    }

    /// The GP's Koerier gateway on loopback, as `serve` runs its intake: mutual TLS; each
    /// letter verified, stored durably in `store` (its own store, not the sender's) and
    /// answered with a signed receipt, worked out on the store's executor. Returns the port.
    static func storingReceiver(store: any MessageStore, codec: MessageCodec, pki: URL, scratch: URL) async throws -> Int {
        let parts = try IntakeParts(store: store, codec: codec, pki: pki, as: "gp")
        let gpChain = try concatenate(
            [pki.appendingPathComponent("gp.pem"), pki.appendingPathComponent("chain.pem")], into: scratch, "gp-chain.pem")
        return try await startIntakeListener(
            tls: ListenerTLS(
                certificateChain: gpChain, key: pki.appendingPathComponent("gp.key"), clientAnchors: pki.appendingPathComponent("ca.pem")),
            responder: xmlIntake(parts, store: store, codec: codec), store: store)
    }

    /// A listener whose answers `responder` works out on `store`'s executor, as `serve` does
    /// (parsing, verifying, storing and signing block). Returns the port.
    static func startIntakeListener(tls: ListenerTLS, responder: ReceiptingResponder, store: any MessageStore) async throws -> Int {
        try await startListener(tls: tls) { request in
            (try? await store.executor.run { responder.answer(request) })
                ?? ListenerAnswer(status: 503, body: Data("the intake cannot answer now\n".utf8), retryAfter: 1)
        }
    }

    /// Letters the receiver in `store` holds: each must be there exactly once.
    static func requireReceived(_ expected: Int, in store: any MessageStore) throws {
        let held = try store.inboundCounts().values.reduce(0, +)
        guard held == expected else { throw CommandFailure("the receiver holds \(held) letters for \(expected) sent") }
    }

    /// What an intake is made of: the trust it verifies against, the identity that signs its
    /// receipts, and the step that stores what it accepts.
    struct IntakeParts {
        let verifier: SignatureVerifier
        let signing: MessageSigning
        let processor: IntakeProcessor

        init(store: any MessageStore, codec: MessageCodec, pki: URL, as party: String) throws {
            let trust = try TrustStore(anchorsFile: pki.appendingPathComponent("ca.pem"), crlFile: pki.appendingPathComponent("crl.pem"))
            verifier = SignatureVerifier(trust: trust)
            signing = try BenchLoopback.signing(as: party, pki: pki, codec: codec)
            let directory = RecipientDirectory(recipients: [])
            processor = IntakeProcessor(
                store: store, directory: directory,
                receipts: ReceiptIntake(store: store, directory: directory, receipts: ReceiptCheck(codec: codec, verifier: verifier)),
                accessPoint: "bench")
        }
    }

    /// The centre's listener identity (its certificate and chain) with clients from the test root.
    static func centreTLS(pki: URL, scratch: URL) throws -> ListenerTLS {
        let serverChain = try concatenate(
            [pki.appendingPathComponent("centre.pem"), pki.appendingPathComponent("chain.pem")], into: scratch, "centre-chain.pem")
        return ListenerTLS(
            certificateChain: serverChain, key: pki.appendingPathComponent("centre.key"),
            clientAnchors: pki.appendingPathComponent("ca.pem"))
    }

    /// The GP's TLS client certificate (with its chain) and key.
    static func gpCredentials(pki: URL, scratch: URL) throws -> ClientCredentials {
        let gpChain = try concatenate(
            [pki.appendingPathComponent("gp.pem"), pki.appendingPathComponent("chain.pem")], into: scratch, "gp-chain.pem")
        return ClientCredentials(certificateChain: gpChain, key: pki.appendingPathComponent("gp.key"))
    }

    static func startListener(
        tls: ListenerTLS, fhirHandler: (@Sendable (InboundRequest) async -> ListenerAnswer)? = nil,
        handler: @escaping @Sendable (InboundRequest) async -> ListenerAnswer
    ) async throws -> Int {
        let listener = MessageListener(
            host: "127.0.0.1", port: 0, tls: tls, maxBodyBytes: 1 << 20, logLevel: .critical, fhirHandler: fhirHandler, handler: handler)
        let (ready, continuation) = AsyncStream<Int>.makeStream()
        Task {
            do { try await listener.run { continuation.yield($0) } } catch { continuation.finish() }
        }
        var iterator = ready.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw CommandFailure("the loopback listener did not start") }
        return port
    }

    /// `clients` plain loops, each on its own thread, sharing the items once each; items
    /// per second. Any item `send` reports as failed fails the measurement.
    static func rate(_ items: [Data], clients: Int, _ send: @escaping @Sendable (Data) -> Bool) async throws -> Double {
        let next = Counter()
        let start = DispatchTime.now().uptimeNanoseconds
        let failures = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        Thread.detachNewThread {
                            var failed = 0
                            while let index = next.take(below: items.count) {
                                if !send(items[index]) { failed += 1 }
                            }
                            continuation.resume(returning: failed)
                        }
                    }
                }
            }
            return await group.reduce(0, +)
        }
        guard failures == 0 else { throw CommandFailure("\(failures) of \(items.count) transfers failed") }
        return Double(items.count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// Files joined into one (a certificate followed by its chain).
    static func concatenate(_ files: [URL], into folder: URL, _ name: String) throws -> URL {
        var bundle = Data()
        for file in files { bundle.append(try Data(contentsOf: file)) }
        let target = folder.appendingPathComponent(name)
        try bundle.write(to: target)
        return target
    }

    /// Removes a scratch folder; a file SQLite was still closing can make the first try fail.
    static func removeScratch(_ folder: URL) {
        for _ in 0..<5 {
            if (try? FileManager.default.removeItem(at: folder)) != nil || !FileManager.default.fileExists(atPath: folder.path) { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// A fresh owner-only folder next to the configured store (the same disk), for one run.
    static func scratchFolder(next store: URL) throws -> URL {
        let scratch = store.deletingLastPathComponent().appendingPathComponent("bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return scratch
    }
}
