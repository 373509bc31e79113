import Foundation
import KoerierConfig
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierServer
import KoerierStore
import KoerierTestSupport
import KoerierXML

/// A centre gateway in a temporary folder (its own config, store and recipient directory,
/// the committed test PKI) plus real peers on loopback: HTTPS listeners with mutual TLS
/// and an aiosmtpd relay with STARTTLS.
final class DeliveryRig: @unchecked Sendable {
    let folder: URL
    let pki = Repository.pki
    let codec: MessageCodec
    private(set) var configuration: KoerierConfiguration!
    private(set) var store: SQLiteMessageStore!
    private var listeners: [Task<Void, Never>] = []
    private var sinks: [Process] = []

    init() throws {
        folder = try Repository.temporaryDirectory()
        codec = try MessageCodec(schemaDirectory: Repository.schemas)
        try PayloadKeyRing.createKeyFile(at: folder.appendingPathComponent("payload.keys"))
    }

    deinit {
        for listener in listeners { listener.cancel() }
        for sink in sinks where sink.isRunning { sink.terminate() }
        try? FileManager.default.removeItem(at: folder)
    }

    /// Writes the config and directory (`recipients` is the YAML list body) and opens the store.
    func configure(recipients: String, delivery: String = "") throws {
        try """
        schemas: \(Repository.schemas.path)
        trust:
          anchors: \(pki.appendingPathComponent("ca.pem").path)
          crl: \(pki.appendingPathComponent("crl.pem").path)
        store:
          path: koerier.sqlite
          key_file: payload.keys
        recipients: recipients.yaml
        identity:
          key: \(pki.appendingPathComponent("centre.key").path)
          certificate: \(pki.appendingPathComponent("centre.pem").path)
          chain: \(pki.appendingPathComponent("chain.pem").path)
        delivery:
          first_retry_seconds: 1
          max_retry_seconds: 1
          max_attempts: 4
          connect_timeout_seconds: 3
          total_timeout_seconds: 10
          mail_from: koerier@centrum.test
        \(delivery)
        """.write(to: folder.appendingPathComponent("koerier.yaml"), atomically: true, encoding: .utf8)
        try "recipients:\n\(recipients)".write(to: folder.appendingPathComponent("recipients.yaml"), atomically: true, encoding: .utf8)
        configuration = try KoerierConfiguration.load(path: folder.appendingPathComponent("koerier.yaml").path)
        if store == nil {
            store = try SQLiteMessageStore(
                path: configuration.storePath.path, keys: try PayloadKeyRing.load(file: configuration.payloadKeyFile))
        }
    }

    func worker() throws -> DeliveryWorker {
        DeliveryAssembly.worker(
            configuration: configuration,
            parts: try DeliveryAssembly.parts(configuration: configuration, store: store, codec: codec),
            owner: "test-worker")
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
        return try store.enqueue(
            OutboundMessage(
                messageID: message.envelope.messageID, kind: message.kind, recipientID: recipientID,
                recipientType: type, transactionID: message.envelope.transactionID, urgency: .routine,
                payload: bytes, clientReference: bsn.map { store.clientReferencer.reference(bsn: $0) }),
            now: Date(), context: Self.context
        ).record
    }

    func recordConsent(bsn: String, allowed: Set<RecipientType>) throws {
        try store.recordConsent(
            ConsentRecord(
                clientReference: store.clientReferencer.reference(bsn: bsn), allowed: allowed,
                recordedOn: "2026-01-12", sourceMessageID: MessageID.generate().value),
            now: Date(), context: Self.context)
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

    /// A free loopback port (bound, read, released).
    static func freePort() -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts an HTTPS listener (mutual TLS, clients from the test PKI) as `party`; returns
    /// once it accepts connections.
    func startListener(as party: String, port: Int, handler: @escaping @Sendable (InboundRequest) async -> ListenerAnswer) async throws
        -> Task<Void, Never>
    {
        let listener = MessageListener(
            host: "127.0.0.1", port: port,
            tls: ListenerTLS(
                certificateChain: try chainFile(party), key: pki.appendingPathComponent("\(party).key"),
                clientAnchors: pki.appendingPathComponent("ca.pem")),
            maxBodyBytes: 1 << 20, logLevel: .critical, handler: handler)
        let (ready, continuation) = AsyncStream<Int>.makeStream()
        let task = Task {
            do {
                try await listener.run { continuation.yield($0) }
            } catch {
                continuation.finish()
            }
        }
        var iterator = ready.makeAsyncIterator()
        _ = await iterator.next()
        listeners.append(task)
        return task
    }

    /// A receiving gateway for `party` that verifies and answers with signed receipts,
    /// counting what it accepted.
    func receiptingResponder(as party: String, received: Received) throws -> ReceiptingResponder {
        let identity = try SigningIdentity(
            keyFile: pki.appendingPathComponent("\(party).key"), certificateFile: pki.appendingPathComponent("\(party).pem"),
            chainFile: pki.appendingPathComponent("chain.pem"))
        let verifier = SignatureVerifier(
            trust: try TrustStore(anchorsFile: pki.appendingPathComponent("ca.pem"), crlFile: pki.appendingPathComponent("crl.pem")))
        return ReceiptingResponder(
            codec: codec, verifier: verifier, signing: MessageSigning(codec: codec, signer: Signer(identity: identity))
        ) { _, bytes, _ in
            received.add(bytes)
        }
    }

    /// aiosmtpd on loopback with STARTTLS required; mail lands in the returned folder.
    func startSMTPSink(reply: String? = nil, auth: String? = nil) throws -> (port: Int, mailbox: URL) {
        let mailbox = folder.appendingPathComponent("mail-\(sinks.count)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [
                "python3", Repository.root.appendingPathComponent("Tests/Peers/smtp_sink.py").path,
                "--cert", try chainFile("arbo").path, "--key", pki.appendingPathComponent("arbo.key").path,
                "--dir", mailbox.path,
            ] + (reply.map { ["--reply", $0] } ?? []) + (auth.map { ["--auth", $0] } ?? [])
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = Pipe()  // the sink runs until this pipe closes
        try process.run()
        sinks.append(process)
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = line.split(separator: " ").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            throw DeliveryFailure("the SMTP sink did not start: \(line)")
        }
        return (port, mailbox)
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
