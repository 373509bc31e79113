import Foundation
import KoerierConfig
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierServer
import KoerierStore
import KoerierTestSupport
import KoerierXML
import Testing

/// A centre gateway in a temporary folder (its own config, store and recipient directory,
/// the committed test PKI) plus real peers on loopback: HTTPS listeners with mutual TLS
/// and an aiosmtpd relay with STARTTLS.
final class DeliveryRig: @unchecked Sendable {
    let folder: URL
    var pki = Repository.pki
    let codec: MessageCodec
    private(set) var configuration: KoerierConfiguration!
    private(set) var store: (any MessageStore)!
    private var listeners: [Task<Void, Never>] = []
    /// Held open for the rig's life: a partner that is down, or one that never answers.
    private(set) var heldSockets: [LoopbackSocket] = []
    private var sinks: [Process] = []
    /// The test PKI party this gateway is (its key signs, its certificate is the TLS client).
    var identity = "centre"
    /// Test PKI parties with keys of their own per purpose (`tls`, `smime`); else `identity`'s.
    var purposeKeys: [String: String] = [:]
    /// The TEST ONLY hierarchy's keys are checked out mode 644: daemons warn instead of refusing.
    var testMode = true
    private var consentTrajectory: Int64?
    /// The record system that signs consent documents (a test PKI party of the centre's organisation).
    var consentSigner = "centre-ec"
    /// Extra `store:` lines, indented two spaces (`  min_free_mb: 64`).
    var storeSettings = ""

    init() throws {
        folder = try Repository.temporaryDirectory()
        codec = try MessageCodec(schemaDirectory: Repository.schemas)
        try PayloadKeyRing.createKeyFile(at: folder.appendingPathComponent("payload.keys"))
        try AuditKey.createKeyFile(at: folder.appendingPathComponent("audit.key"))
    }

    deinit {
        for listener in listeners { listener.cancel() }
        for sink in sinks where sink.isRunning { sink.terminate() }
        try? FileManager.default.removeItem(at: folder)
    }

    /// Writes the config and directory (`recipients` is the YAML list body) and opens the store.
    /// `delivery` may start with indented `key: value` lines that replace the defaults of
    /// the delivery section; what follows them (other sections) is appended as it is.
    func configure(recipients: String, delivery: String = "") throws {
        var defaults: [(String, String)] = [
            ("first_retry_seconds", "1"), ("max_retry_seconds", "1"), ("max_attempts", "4"),
            ("connect_timeout_seconds", "3"), ("total_timeout_seconds", "10"), ("mail_from", "koerier@centrum.test"),
        ]
        let extra = delivery.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let overrides = extra.prefix { $0.hasPrefix("  ") }
        for line in overrides {
            let key = line.trimmingCharacters(in: .whitespaces).split(separator: ":").first.map(String.init) ?? ""
            defaults.removeAll { $0.0 == key }
        }
        let deliverySection = defaults.map { "  \($0.0): \($0.1)" } + overrides
        try """
        test_mode: \(testMode)
        schemas: \(Repository.schemas.path)
        trust:
          anchors: \(pki.appendingPathComponent("ca.pem").path)
          crl: \(pki.appendingPathComponent("crl.pem").path)
          consent_signers: \(pki.appendingPathComponent("\(consentSigner).pem").path)
        store:
          path: koerier.sqlite
          key_file: payload.keys
          audit_key_file: audit.key
        \(storeSettings)
        recipients: recipients.yaml
        identity:
          key: \(pki.appendingPathComponent("\(identity).key").path)
          certificate: \(pki.appendingPathComponent("\(identity).pem").path)
          chain: \(pki.appendingPathComponent("chain.pem").path)
        \(purposeKeys.sorted { $0.key < $1.key }.map { purpose, party in
            """
              \(purpose):
                key: \(pki.appendingPathComponent("\(party).key").path)
                certificate: \(pki.appendingPathComponent("\(party).pem").path)
                chain: \(pki.appendingPathComponent("chain.pem").path)
            """
        }.joined(separator: "\n"))
        delivery:
        \(deliverySection.joined(separator: "\n"))
        \(extra.dropFirst(overrides.count).joined(separator: "\n"))
        """.write(to: folder.appendingPathComponent("koerier.yaml"), atomically: true, encoding: .utf8)
        try "recipients:\n\(recipients)".write(to: folder.appendingPathComponent("recipients.yaml"), atomically: true, encoding: .utf8)
        configuration = try KoerierConfiguration.load(path: folder.appendingPathComponent("koerier.yaml").path)
        if store == nil {
            store = try ConfiguredStore.open(
                configuration, keys: try PayloadKeyRing.load(file: configuration.payloadKeyFile),
                auditKey: try configuration.auditKeyFile.map(AuditKey.load), migrate: true)
        }
    }

    /// Reads koerier.yaml again after a test changed it (the store stays open).
    func reloadConfiguration() throws {
        configuration = try KoerierConfiguration.load(path: folder.appendingPathComponent("koerier.yaml").path)
    }

    /// Takes `other`'s payload and audit keys (daemons sharing one store share its keys).
    func shareKeys(with other: DeliveryRig) throws {
        for name in ["payload.keys", "audit.key"] {
            let mine = folder.appendingPathComponent(name)
            try FileManager.default.removeItem(at: mine)
            try FileManager.default.copyItem(at: other.folder.appendingPathComponent(name), to: mine)
        }
    }

    func worker() throws -> DeliveryWorker {
        DeliveryAssembly.worker(
            configuration: configuration,
            parts: try DeliveryAssembly.parts(configuration: configuration, store: store, codec: codec),
            owner: "test-worker")
    }

    /// A worker that waits at most `drainTimeout` for transfers in flight when it stops (a
    /// test that leaves transfers to a hung partner behind need not wait for their timeout).
    func worker(drainTimeout: TimeInterval) throws -> DeliveryWorker {
        let delivery = configuration.delivery
        return DeliveryWorker(
            parts: try DeliveryAssembly.parts(configuration: configuration, store: store, codec: codec), owner: "test-worker",
            settings: DeliveryWorker.Settings(
                leaseDuration: TimeInterval(delivery.leaseSeconds), circuitFailures: delivery.circuitFailures,
                circuitMaximumBackoff: TimeInterval(delivery.circuitPauseSeconds), drainTimeout: drainTimeout))
    }

    static let context = AuditContext(actor: "test", accessPoint: "test")

    /// Queues a signed sample for a recipient, with the client reference of its patient.
    @discardableResult
    func enqueue(_ sample: String, to recipientID: String, type: RecipientType) throws -> OutboundRecord {
        let bytes = try Data(contentsOf: Repository.signedSamples.appendingPathComponent(sample))
        let message = try codec.decode(bytes)
        var bsn: String?
        if case .returnLetter(let letter) = message { bsn = letter.patient.bsn.digits }
        if case .referral(let referral) = message { bsn = referral.patient.bsn.digits }
        let reference = bsn.map { store.clientReferencer.reference(bsn: $0) }
        // As `koerier enqueue` does: the recipient's copy is prepared now; a recipient the
        // directory does not know gets the message as it is (delivery then finds it unknown).
        guard let recipient = try RecipientDirectory.load(file: configuration.recipientsFile)[recipientID] else {
            return try store.enqueue(
                OutboundMessage(
                    messageID: message.envelope.messageID, kind: message.kind, recipientID: recipientID, recipientType: type,
                    transactionID: message.envelope.transactionID, urgency: .routine, payload: bytes, clientReference: reference),
                now: Date(), context: Self.context
            ).record
        }
        let outbound = try DeliveryAssembly.letterQueue(configuration: configuration, codec: codec).outbound(
            message, bytes: bytes, to: recipient, urgency: .routine, clientReference: reference)
        return try store.enqueue(outbound, now: Date(), context: Self.context).record
    }

    /// The signed samples' trajectory (transaction ZD20260302007), opened on first use by a
    /// referral whose consent names nobody; each call records its next consent version.
    @discardableResult
    func grantConsent(_ parties: Set<String>) throws -> ConsentVersion {
        let grant = ConsentGrant(parties: parties, recordedOn: "2026-01-12", source: MessageID.generate().value)
        if let trajectory = consentTrajectory {
            let inForce = try store.consent(trajectory: trajectory)?.version ?? 0
            return try store.recordConsent(grant, trajectory: trajectory, replacing: inForce, now: Date(), context: Self.context)
        }
        let referral = try Data(contentsOf: Repository.signedSamples.appendingPathComponent("referral-huisarts-rsa.xml"))
        let opened = try store.receiveReferral(
            InboundMessage(
                messageID: .generate(), kind: .referral, sender: "test", payload: referral,
                clientReference: store.clientReferencer.reference(bsn: "999990019")),
            referrerRecipientID: nil, consent: ConsentGrant(parties: [], recordedOn: "2026-01-12", source: ""),
            transactionID: "ZD20260302007", now: Date(), context: Self.context)
        consentTrajectory = opened.trajectory.id
        return try store.recordConsent(grant, trajectory: opened.trajectory.id, replacing: 1, now: Date(), context: Self.context)
    }

    // MARK: Peers

    /// A PEM file with a party's certificate followed by the intermediate (what a server sends).
    func chainFile(_ party: String) throws -> URL {
        let file = folder.appendingPathComponent("\(party)-chain.pem")
        var bundle = try Data(contentsOf: pki.appendingPathComponent("\(party).pem"))
        bundle.append(try Data(contentsOf: pki.appendingPathComponent(party == "untrusted" ? "untrusted-ca.pem" : "chain.pem")))
        try bundle.write(to: file)
        return file
    }

    /// Starts an HTTPS listener (mutual TLS, clients from the test PKI) as `party` on a
    /// port the kernel chooses; returns that port once it accepts connections, or the
    /// listener's own error if it could not start.
    static let notFound: @Sendable (InboundRequest) async -> ListenerAnswer = { _ in ListenerAnswer(status: 404, body: Data()) }

    /// With `fhir`, the handler answers `POST /fhir/Bundle` instead (a FHIR server or intake).
    func startListener(
        as party: String, fhir: Bool = false, handler: @escaping @Sendable (InboundRequest) async -> ListenerAnswer
    ) async throws -> Int {
        let listener = MessageListener(
            host: "127.0.0.1", port: 0,
            tls: ListenerTLS(
                certificateChain: try chainFile(party), key: pki.appendingPathComponent("\(party).key"),
                clientAnchors: pki.appendingPathComponent("ca.pem")),
            maxBodyBytes: 1 << 20, logLevel: .critical, fhirHandler: fhir ? handler : nil,
            handler: fhir ? Self.notFound : handler)
        let (ready, continuation) = AsyncStream<Result<Int, any Error>>.makeStream()
        let task = Task {
            do {
                try await listener.run { continuation.yield(.success($0)) }
                continuation.finish()
            } catch {
                continuation.yield(.failure(error))
                continuation.finish()
            }
        }
        listeners.append(task)
        var iterator = ready.makeAsyncIterator()
        guard let started = await iterator.next() else { throw DeliveryFailure("the test listener stopped before it listened") }
        return try started.get()
    }

    /// A receiving gateway for `party` that verifies and answers with signed receipts,
    /// counting what it accepted; identities as outside test mode unless told otherwise.
    func receiptingResponder(as party: String, received: Received, identities: IdentityPolicy = .uziOnly) throws -> ReceiptingResponder {
        let identity = try SigningIdentity(
            keyFile: pki.appendingPathComponent("\(party).key"), certificateFile: pki.appendingPathComponent("\(party).pem"),
            chainFile: pki.appendingPathComponent("chain.pem"))
        let verifier = SignatureVerifier(
            trust: try TrustStore(anchorsFile: pki.appendingPathComponent("ca.pem"), crlFile: pki.appendingPathComponent("crl.pem")),
            identities: identities)
        return ReceiptingResponder(
            codec: codec, verifier: verifier, signing: MessageSigning(codec: codec, signer: Signer(identity: identity))
        ) { _, bytes, _, _ in
            received.add(bytes)
        }
    }

    /// A receiving Koerier gateway for `party`, as `serve` wires it: its own store (in a
    /// subfolder), a signed receipt kept before it is sent, and a message that arrives
    /// again answered with its original receipt instead of being stored twice.
    /// `lookUpMisses`: look-ups of an earlier receipt (counted from 1) that find nothing, as
    /// a look-up made just before another copy of the message was stored would. `anchors`
    /// and `crl`: the roots it trusts and its CRL file (a gateway made again under the same
    /// name keeps its store).
    func receivingGateway(
        as party: String, named name: String? = nil, anchors: String = "ca.pem", crl: URL? = nil, lookUpMisses: Set<Int> = []
    ) throws -> (responder: ReceiptingResponder, store: any MessageStore) {
        let home = folder.appendingPathComponent(name ?? "\(party)-gateway")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: home.appendingPathComponent("payload.keys").path) {
            try PayloadKeyRing.createKeyFile(at: home.appendingPathComponent("payload.keys"))
        }
        let store = try MessageStores.embedded(
            path: home.appendingPathComponent("inbox.sqlite").path,
            keys: try PayloadKeyRing.load(file: home.appendingPathComponent("payload.keys")))
        let identity = try SigningIdentity(
            keyFile: pki.appendingPathComponent("\(party).key"), certificateFile: pki.appendingPathComponent("\(party).pem"),
            chainFile: pki.appendingPathComponent("chain.pem"))
        let verifier = SignatureVerifier(
            trust: try TrustStore(anchorsFile: pki.appendingPathComponent(anchors), crlFile: crl ?? pki.appendingPathComponent("crl.pem")))
        let context = AuditContext(actor: "service:\(party)-gateway", accessPoint: "loopback")
        let lookUps = Counter()
        let responder = ReceiptingResponder(
            codec: codec, verifier: verifier, signing: MessageSigning(codec: codec, signer: Signer(identity: identity)),
            previousReceipt: { id in
                lookUps.add()
                return lookUpMisses.contains(lookUps.value) ? nil : try? store.issuedReceipt(for: id.value)
            },
            refused: { id, reason in
                try store.recordAudit(
                    AuditEvent(
                        kind: .receive, actor: context.actor, messageID: id, accessPoint: context.accessPoint, outcome: "refused: \(reason)"
                    ),
                    now: Date())
            },
            repeated: { id in
                try? store.recordAudit(
                    AuditEvent(
                        kind: .receive, actor: context.actor, messageID: id.value, accessPoint: context.accessPoint, outcome: "duplicate"),
                    now: Date())
            },
            accept: { message, bytes, signer, receipt in
                try store.transaction { tx in
                    _ = try tx.receiveProcessed(
                        InboundMessage(
                            messageID: message.envelope.messageID, kind: message.kind, sender: signer.organisation ?? signer.subject,
                            payload: bytes), now: Date(), context: context)
                    if let receipt { try tx.recordIssuedReceipt(receipt, for: message.envelope.messageID.value, now: Date()) }
                }
            })
        return (responder, store)
    }

    /// A return letter from the centre to GP De Linde under a new message id, the centre's
    /// signing and its TLS client certificate: what the centre's gateway posts.
    func centreLetter() throws -> (letter: ReturnLetter, signing: MessageSigning, client: Data) {
        let sample = try Data(contentsOf: Repository.signedSamples.appendingPathComponent("return-letter-fase-2-rsa.xml"))
        guard case .returnLetter(var letter) = try codec.decode(sample) else { throw DeliveryFailure("not a return letter") }
        letter.envelope.messageID = .generate()
        return (letter, try IdentityBindingTests.signing(self, as: "centre"), try IdentityBindingTests.der(self, "centre"))
    }

    /// `count` return letters from the centre to GP De Linde, each with its own id, signed
    /// with the centre's key and queued for `recipientID`; their message ids in order.
    @discardableResult
    func enqueueLetters(_ count: Int, to recipientID: String, urgency: Urgency = .routine, ediSender: String? = nil) throws -> [String] {
        let template = try Data(contentsOf: Repository.signedSamples.appendingPathComponent("return-letter-fase-2-rsa.xml"))
        guard case .returnLetter(var letter) = try codec.decode(template) else { throw DeliveryFailure("not a return letter") }
        let signing = MessageSigning(
            codec: codec,
            signer: Signer(
                identity: try SigningIdentity(
                    keyFile: pki.appendingPathComponent("centre.key"), certificateFile: pki.appendingPathComponent("centre.pem"),
                    chainFile: pki.appendingPathComponent("chain.pem"))))
        let recipient = try #require(try RecipientDirectory.load(file: configuration.recipientsFile)[recipientID])
        let queue = LetterQueue(adapters: AdapterSet(signing: signing, formats: LetterFormatter(ediSender: ediSender)))
        let messages = try (0..<count).map { _ -> OutboundMessage in
            letter.envelope.messageID = .generate()
            return try queue.outbound(
                .returnLetter(letter), bytes: try signing.signedXML(.returnLetter(letter)), to: recipient, urgency: urgency,
                clientReference: store.clientReferencer.reference(bsn: letter.patient.bsn.digits))
        }
        _ = try store.enqueueBatch(messages, now: Date(), context: Self.context)
        return messages.map(\.messageID.value)
    }

    /// aiosmtpd on loopback (Debian's python3) with STARTTLS required, or offering no
    /// STARTTLS at all with `plain`; mail lands in the returned folder, and every MAIL and
    /// DATA it saw in `transcript.log` there.
    func startSMTPSink(reply: String? = nil, auth: String? = nil, plain: Bool = false) throws -> (port: Int, mailbox: URL) {
        let mailbox = folder.appendingPathComponent("mail-\(sinks.count)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessRunner.python)
        var arguments = [Repository.root.appendingPathComponent("Tests/Peers/smtp_sink.py").path, "--dir", mailbox.path]
        arguments += plain ? ["--plain"] : ["--cert", try chainFile("arbo").path, "--key", pki.appendingPathComponent("arbo.key").path]
        arguments += (reply.map { ["--reply", $0] } ?? []) + (auth.map { ["--auth", $0] } ?? [])
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice  // never swift-test's own pipe (see opensslServer)
        process.standardInput = Pipe()  // the sink runs until this pipe closes
        try process.run()
        sinks.append(process)
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }  // end of file: the sink exited
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw DeliveryFailure("the SMTP sink did not start: \(text)")
        }
        return (port, mailbox)
    }

    /// The MAIL and DATA commands an SMTP sink saw (refused ones too).
    func transcript(of mailbox: URL) -> [String] {
        let text = (try? String(contentsOf: mailbox.appendingPathComponent("transcript.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// A loopback port where connections are refused for as long as the rig lives.
    func downPort() throws -> Int {
        let socket = try LoopbackSocket(listen: false)
        heldSockets.append(socket)
        return socket.port
    }

    /// A loopback port whose partner accepts connections and never answers.
    func hungPort() throws -> Int {
        let socket = try LoopbackSocket.hungPartner()
        heldSockets.append(socket)
        return socket.port
    }

    func mails(in mailbox: URL) -> [Data] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: mailbox.path)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
        return names.compactMap { FileManager.default.contents(atPath: mailbox.appendingPathComponent($0).path) }
    }
}

/// What a test receiver accepted, in order.
final class Received: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [Data] = []
    func add(_ data: Data) { lock.withLock { messages.append(data) } }
    var all: [Data] { lock.withLock { messages } }
}
