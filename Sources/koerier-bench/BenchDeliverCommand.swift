import ArgumentParser
import Foundation
import KoerierConfig
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierServer
import KoerierStore
import KoerierXML

struct BenchDeliverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliver",
        abstract: "End-to-end deliveries/s from the queue to a loopback HTTPS receiver and SMTP server, against bare clients.",
        discussion: """
            A scratch store next to the configured one is filled with distinct signed return \
            letters (TEST ONLY identities from the samples' pki). The worker then delivers them \
            with everything it does in production: lease, audited payload read, decryption, \
            validation, adapter, transport, receipt verification, state change. HTTPS goes to an \
            in-process Koerier listener (mutual TLS) that verifies each letter and answers with a \
            signed receipt; mail goes as S/MIME participation notices to aiosmtpd (STARTTLS). The \
            baselines, in the same run, feed the same receivers the same pre-signed bytes from a \
            plain loop of as many concurrent libcurl clients, with no queue and no adapter. The JSON \
            line's ratio is the HTTPS one; ratio_smtp is the mail one.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Letters per measurement.")
    var messages = 400

    @Option(help: "Concurrent transfers (worker and baseline alike).")
    var concurrency = 8

    func run() async throws {
        let (configuration, codec) = try global.loadCodec()
        let pki = configuration.samplesDirectory.appendingPathComponent("pki")
        let scratch = try BenchLoopback.scratchFolder(next: configuration.storePath)
        defer { BenchLoopback.removeScratch(scratch) }

        // Receivers: the GP's Koerier listener, and a mail relay.
        let gpChain = try BenchLoopback.concatenate(
            [pki.appendingPathComponent("gp.pem"), pki.appendingPathComponent("chain.pem")], into: scratch, "gp-chain.pem")
        let relayChain = try BenchLoopback.concatenate(
            [pki.appendingPathComponent("arbo.pem"), pki.appendingPathComponent("chain.pem")], into: scratch, "relay-chain.pem")
        let gpSigning = MessageSigning(
            codec: codec,
            signer: Signer(
                identity: try SigningIdentity(
                    keyFile: pki.appendingPathComponent("gp.key"), certificateFile: pki.appendingPathComponent("gp.pem"),
                    chainFile: pki.appendingPathComponent("chain.pem"))))
        let trust = try TrustStore(anchorsFile: pki.appendingPathComponent("ca.pem"), crlFile: pki.appendingPathComponent("crl.pem"))
        let responder = ReceiptingResponder(codec: codec, verifier: SignatureVerifier(trust: trust), signing: gpSigning) { _, _, _ in }
        let port = try await BenchLoopback.startListener(
            tls: ListenerTLS(
                certificateChain: gpChain, key: pki.appendingPathComponent("gp.key"), clientAnchors: pki.appendingPathComponent("ca.pem"))
        ) { await responder.respond($0) }
        let sink = try SMTPSink(
            script: configuration.samplesDirectory.appendingPathComponent("../Tests/Peers/smtp_sink.py").standardizedFileURL,
            certificate: relayChain, key: pki.appendingPathComponent("arbo.key"), folder: scratch.appendingPathComponent("mail"))
        defer { sink.stop() }

        let config = try writeConfiguration(
            in: scratch, pki: pki, schemas: configuration.schemaDirectory, httpsPort: port, smtpPort: sink.port)
        let benchConfiguration = try KoerierConfiguration.load(path: config.path)
        try PayloadKeyRing.createKeyFile(at: benchConfiguration.payloadKeyFile)
        let store = try MessageStores.embedded(
            path: benchConfiguration.storePath.path, keys: try PayloadKeyRing.load(file: benchConfiguration.payloadKeyFile))
        let parts = try DeliveryAssembly.parts(configuration: benchConfiguration, store: store, codec: codec)
        let centre = MessageSigning(
            codec: codec,
            signer: Signer(
                identity: try SigningIdentity(
                    keyFile: pki.appendingPathComponent("centre.key"), certificateFile: pki.appendingPathComponent("centre.pem"),
                    chainFile: pki.appendingPathComponent("chain.pem"))))
        let sample = try Data(contentsOf: configuration.samplesDirectory.appendingPathComponent("signed/return-letter-fase-2-rsa.xml"))
        guard case .returnLetter(let template) = try codec.decode(sample) else { throw CommandFailure("the sample is not a return letter") }
        let reference = store.clientReferencer.reference(bsn: template.patient.bsn.digits)
        try store.recordConsent(
            ConsentRecord(
                clientReference: reference, allowed: [.werkgever], recordedOn: "2026-01-12",
                sourceMessageID: MessageID.generate().value), now: Date(), context: context)
        print("signing \(messages * 2) distinct letters …")
        let letters = try (0..<(messages * 2)).map { _ -> Data in
            var letter = template
            letter.envelope.messageID = .generate()
            return try centre.signedXML(.returnLetter(letter))
        }
        let httpsLetters = Array(letters.prefix(messages))
        let mailLetters = Array(letters.suffix(messages))

        // Baselines: the same bytes, posted or mailed by plain concurrent loops.
        let https = parts.channels.https
        guard case .https(let httpsTarget) = parts.directory["gp"]?.transport,
            case .smtp(let smtpTarget) = parts.directory["employer"]?.transport
        else { throw CommandFailure("bench directory incomplete") }
        let bareHTTPS = try await BenchLoopback.rate(httpsLetters, clients: concurrency) { bytes in
            if case .answered(200..<300, _, _) = https.post(bytes, to: httpsTarget) { return true } else { return false }
        }
        print(String(format: "bare HTTPS clients:      %7.1f msg/s", bareHTTPS))
        guard let employer = parts.directory["employer"], let certificateFile = smtpTarget.certificate,
            let employerCertificate = Certificate.loadPEM(try Data(contentsOf: certificateFile)).first
        else {
            throw CommandFailure("bench directory incomplete")
        }
        let consent = ConsentRecord(clientReference: reference, allowed: [.werkgever], recordedOn: "2026-01-12", sourceMessageID: "bench")
        let notices = try mailLetters.map { bytes -> Data in
            guard case .returnLetter(let letter) = try codec.decode(bytes),
                case .send(let outgoing) = try parts.adapters.adapter(for: .werkgever).prepare(
                    .returnLetter(letter), bytes: bytes,
                    for: employer, consent: consent)
            else { throw CommandFailure("cannot prepare a notice") }
            return try MailComposer.mail(
                from: benchConfiguration.delivery.mailFrom, to: smtpTarget.mailbox, messageID: outgoing.messageID.value,
                kind: outgoing.kind.rawValue, signer: parts.channels.mailSigner, recipientCertificate: employerCertificate,
                attachment: outgoing.bytes)
        }
        let smtp = parts.channels.smtp
        let bareSMTP = try await BenchLoopback.rate(notices, clients: concurrency) { mail in
            if case .answered(200..<300, _, _) = smtp.send(mail, to: smtpTarget) { return true } else { return false }
        }
        print(String(format: "bare SMTP clients:       %7.1f msg/s", bareSMTP))

        // End to end through the queue.
        let worker = DeliveryAssembly.worker(configuration: benchConfiguration, parts: parts, owner: "bench")
        let e2eHTTPS = try await endToEnd(httpsLetters, to: "gp", store: store, worker: worker, parts: parts, expect: .acknowledged)
        print(String(format: "queue -> HTTPS receiver: %7.1f msg/s (%.2f× bare)", e2eHTTPS, e2eHTTPS / bareHTTPS))
        let e2eSMTP = try await endToEnd(mailLetters, to: "employer", store: store, worker: worker, parts: parts, expect: .delivered)
        print(String(format: "queue -> SMTP server:    %7.1f msg/s (%.2f× bare)", e2eSMTP, e2eSMTP / bareSMTP))

        let result = BenchResult(
            bench: "deliver", value: e2eHTTPS,
            baseline:
                "same loopback mTLS listener (verifies, signs a receipt), pre-signed letters posted by \(concurrency) plain libcurl clients",
            baselineValue: bareHTTPS,
            extra: [
                "smtp_value": (e2eSMTP * 10).rounded() / 10, "smtp_baseline_value": (bareSMTP * 10).rounded() / 10,
                "ratio_smtp": ((e2eSMTP / bareSMTP) * 1000).rounded() / 1000, "messages": messages,
                "concurrency": concurrency,
            ])
        print(try result.jsonLine())
    }

    private var context: AuditContext { AuditContext(actor: "bench", accessPoint: "bench") }

    private func endToEnd(
        _ letters: [Data], to recipient: String, store: any MessageStore, worker: DeliveryWorker, parts: DeliveryWorker.Parts,
        expect: DeliveryState
    ) async throws -> Double {
        let codec = try global.loadCodec().1
        var ids: [Int64] = []
        for bytes in letters {
            let message = try codec.decode(bytes)
            let bsn: String? = { if case .returnLetter(let letter) = message { return letter.patient.bsn.digits } else { return nil } }()
            guard let entry = parts.directory[recipient] else { throw CommandFailure("bench directory incomplete") }
            let outbound = try LetterQueue(adapters: parts.adapters).outbound(
                message, bytes: bytes, to: entry, urgency: .routine, clientReference: bsn.map { store.clientReferencer.reference(bsn: $0) })
            ids.append(try store.enqueue(outbound, now: Date(), context: context).record.id)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        var handled = 0
        while handled < letters.count {
            let report = try await worker.deliverDue()
            handled += report.total
            if report.total == 0 { break }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let reached = try ids.filter { try store.record($0)?.state == expect }.count
        guard reached == letters.count else {
            throw CommandFailure(
                "only \(reached) of \(letters.count) records reached \(expect.rawValue); see `koerier list` on the scratch store")
        }
        return Double(letters.count) / seconds
    }

    private func writeConfiguration(in folder: URL, pki: URL, schemas: URL, httpsPort: Int, smtpPort: Int) throws -> URL {
        let anchors = pki.appendingPathComponent("ca.pem").path
        try """
        schemas: \(schemas.path)
        trust: {anchors: \(anchors), crl: \(pki.appendingPathComponent("crl.pem").path)}
        store: {path: bench.sqlite, key_file: payload.keys}
        recipients: recipients.yaml
        identity: {key: \(pki.appendingPathComponent("centre.key").path), certificate: \(pki.appendingPathComponent("centre.pem").path), chain: \(pki.appendingPathComponent("chain.pem").path)}
        delivery: {mail_from: koerier@bench.test}
        """.write(to: folder.appendingPathComponent("koerier.yaml"), atomically: true, encoding: .utf8)
        try """
        recipients:
          - {id: gp, name: Huisartsenpraktijk De Linde, type: huisarts, ura: "90000123", concurrency: \(concurrency),
             https: {url: "https://localhost:\(httpsPort)/v1/messages", server_anchors: \(anchors)}}
          - {id: employer, name: "Gemeente Voorbeeldstad, afdeling HR", type: werkgever, concurrency: \(concurrency),
             smtp: {to: hr@bench.test, relay: 127.0.0.1, port: \(smtpPort), relay_anchors: \(anchors), certificate: \(pki.appendingPathComponent("employer.pem").path)}}
        """.write(to: folder.appendingPathComponent("recipients.yaml"), atomically: true, encoding: .utf8)
        return folder.appendingPathComponent("koerier.yaml")
    }
}

/// Hands out indices 0..<n once each to concurrent loops.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func take(below limit: Int) -> Int? {
        lock.withLock {
            guard value < limit else { return nil }
            defer { value += 1 }
            return value
        }
    }
}

/// aiosmtpd (STARTTLS required) as a child process, for the mail measurements.
final class SMTPSink {
    let process = Process()
    let port: Int
    private let input = Pipe()

    init(script: URL, certificate: URL, key: URL, folder: URL) throws {
        guard FileManager.default.fileExists(atPath: script.path) else {
            throw CommandFailure("\(script.path) is missing: bench deliver runs from a Koerier checkout", exitCode: .configurationError)
        }
        process.executableURL = URL(fileURLWithPath: BenchPython.system)
        process.arguments = [script.path, "--cert", certificate.path, "--key", key.path, "--dir", folder.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = input
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = line.split(separator: " ").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            throw CommandFailure("the SMTP server (aiosmtpd) did not start; run .ci/setup: \(line)")
        }
        self.port = port
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
