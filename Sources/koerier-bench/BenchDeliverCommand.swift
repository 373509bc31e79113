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
            in-process Koerier gateway for the GP (mutual TLS) that verifies each letter, stores \
            it durably in its own SQLite store and answers with a signed receipt, as `serve` \
            does; mail goes as S/MIME participation notices to aiosmtpd (STARTTLS). The \
            scheduler runs as in `serve`; each run is timed from the first enqueue to the last \
            acknowledgement (HTTPS) or hand-over (mail). The peer baseline, in the same run: \
            Debian's Postfix, a private instance in the scratch folder, relaying as many plain \
            mails of the letters' size from smtp-source to smtp-sink (.ci/setup installs it). \
            ratio is HTTPS letters/s ÷ Postfix mails/s; ratio_smtp is S/MIME mails/s ÷ Postfix. \
            Also: bare libcurl clients posting/mailing letters of the same kind with no queue, \
            and enqueue -> acknowledged latency (p50, p99) at 10 letters/s.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Letters per measurement.")
    var messages = 400

    @Option(help: "Concurrent transfers (the lane's limit, the bare clients and Postfix's sessions alike).")
    var concurrency = 8

    @Option(help: "sqlite (one daemon, against Postfix) or postgres (1 and 3 daemons on a private cluster, scaling ratio).")
    var store: BenchStore = .sqlite

    /// Letters in the latency run (10 per second).
    private static let latencyLetters = 50

    func run() async throws {
        let (configuration, codec) = try global.loadCodec()
        let pki = configuration.samplesDirectory.appendingPathComponent("pki")
        let scratch = try BenchLoopback.scratchFolder(next: configuration.storePath)
        defer { BenchLoopback.removeScratch(scratch) }
        if store == .postgres {
            return try await PostgresDeliverBench.run(
                configuration: configuration, codec: codec, messages: messages, concurrency: concurrency, scratch: scratch)
        }

        // Receivers: the GP's Koerier gateway (verifying, storing in its own store, receipting),
        // and a mail relay.
        let receiverStore = try BenchLoopback.scratchStore(in: scratch, named: "gp-receiver")
        let port = try await BenchLoopback.storingReceiver(store: receiverStore, codec: codec, pki: pki, scratch: scratch)
        let relayChain = try BenchLoopback.concatenate(
            [pki.appendingPathComponent("arbo.pem"), pki.appendingPathComponent("chain.pem")], into: scratch, "relay-chain.pem")
        func signing(_ party: String) throws -> MessageSigning { try BenchLoopback.signing(as: party, pki: pki, codec: codec) }
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
        let centre = try signing("centre")
        let sample = try Data(contentsOf: configuration.samplesDirectory.appendingPathComponent("signed/return-letter-fase-2-rsa.xml"))
        guard case .returnLetter(let template) = try codec.decode(sample) else { throw CommandFailure("the sample is not a return letter") }
        let reference = store.clientReferencer.reference(bsn: template.patient.bsn.digits)
        // The letters' trajectory, whose consent names the employer (the referral's bytes stand in).
        let consent = try store.receiveReferral(
            InboundMessage(messageID: .generate(), kind: .referral, sender: "bench", payload: sample, clientReference: reference),
            referrerRecipientID: "gp", consent: ConsentGrant(parties: ["employer"], recordedOn: "2026-01-12", source: ""),
            transactionID: template.envelope.transactionID.value, now: Date(), context: context
        ).trajectory.id
        let consentInForce = try store.consent(trajectory: consent).map { [$0] } ?? []
        print("signing \(messages * 3) distinct letters …")
        let letters = try BenchProgress.map(messages * 3, "signing letters") { _ -> Data in
            var letter = template
            letter.envelope.messageID = .generate()
            return try centre.signedXML(.returnLetter(letter))
        }
        // Each run its own letters: the receiver answers a letter it already holds with its
        // first receipt, without the work a new letter costs.
        let bareLetters = Array(letters.prefix(messages))
        let httpsLetters = Array(letters[messages..<(messages * 2)])
        let mailLetters = Array(letters.suffix(messages))

        // Baselines: letters of the same kind and size, posted or mailed by plain concurrent loops.
        let https = parts.channels.https
        guard case .https(let httpsTarget) = parts.directory["gp"]?.transport,
            case .smtp(let smtpTarget) = parts.directory["employer"]?.transport
        else { throw CommandFailure("bench directory incomplete") }
        let bareHTTPS = try await BenchLoopback.rate(bareLetters, clients: concurrency) { bytes in
            if case .answered(200..<300, _, _, _) = https.post(bytes, to: httpsTarget) { return true } else { return false }
        }
        print(String(format: "bare HTTPS clients:      %7.1f msg/s", bareHTTPS))
        guard let employer = parts.directory["employer"], let certificateFile = smtpTarget.certificate,
            let employerCertificate = Certificate.loadPEM(try Data(contentsOf: certificateFile)).first
        else {
            throw CommandFailure("bench directory incomplete")
        }
        let notices = try mailLetters.map { bytes -> Data in
            guard case .returnLetter(let letter) = try codec.decode(bytes),
                case .send(let outgoing) = try parts.adapters.adapter(for: .werkgever).prepare(
                    .returnLetter(letter), bytes: bytes,
                    for: employer, consent: consentInForce)
            else { throw CommandFailure("cannot prepare a notice") }
            return try MailComposer.mail(
                from: benchConfiguration.delivery.mailFrom, to: smtpTarget.mailbox, messageID: outgoing.messageID.value,
                kind: outgoing.kind.rawValue, signer: parts.channels.mailSigner, recipientCertificate: employerCertificate,
                attachment: outgoing.bytes)
        }
        let smtp = parts.channels.smtp
        let bareSMTP = try await BenchLoopback.rate(notices, clients: concurrency) { mail in
            if case .answered(200..<300, _, _, _) = smtp.send(mail, to: smtpTarget) { return true } else { return false }
        }
        print(String(format: "bare SMTP clients:       %7.1f msg/s", bareSMTP))

        // End to end through the queue, with the scheduler running as in `serve`: timed from
        // the first enqueue of the pre-signed letters to the last acknowledgement.
        let worker = DeliveryAssembly.worker(configuration: benchConfiguration, parts: parts, owner: "bench")
        let running = Task { try await worker.run { false } }
        defer { worker.stop() }
        let e2eHTTPS = try await endToEnd(httpsLetters, to: "gp", store: store, worker: worker, parts: parts, expect: .acknowledged)
        print(String(format: "queue -> HTTPS receiver: %7.1f msg/s (%.2f× bare)", e2eHTTPS, e2eHTTPS / bareHTTPS))
        let e2eSMTP = try await endToEnd(mailLetters, to: "employer", store: store, worker: worker, parts: parts, expect: .delivered)
        print(String(format: "queue -> SMTP server:    %7.1f msg/s (%.2f× bare)", e2eSMTP, e2eSMTP / bareSMTP))
        let latencyLetters = try letters.prefix(Self.latencyLetters).map { try resigned($0, centre: centre, codec: codec) }
        let latency = try await latencyAtTenPerSecond(latencyLetters, store: store, worker: worker, parts: parts)
        print(String(format: "enqueue -> acknowledged at 10 letters/s: p50 %.1f ms, p99 %.1f ms", latency.p50, latency.p99))
        worker.stop()
        try await running.value
        try BenchLoopback.requireReceived(bareLetters.count + httpsLetters.count + latencyLetters.count, in: receiverStore)

        // The peer: Postfix relaying as many plain mails of the same size, end to end.
        let letterSize = httpsLetters.map(\.count).reduce(0, +) / max(1, httpsLetters.count)
        // Postfix's daemons run as the postfix user: its folder is outside the (owner-only) scratch store folder.
        let postfixFolder = FileManager.default.temporaryDirectory.appendingPathComponent("koerier-bench-postfix-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: postfixFolder) }
        let postfix = try PostfixPeer(folder: postfixFolder)
        let postfixRate = try postfix.relayRate(count: messages, size: letterSize, sessions: concurrency)
        print(String(format: "Postfix smtp-source -> postfix -> smtp-sink: %7.1f mails/s", postfixRate))

        let result = BenchResult(
            bench: "deliver", value: e2eHTTPS,
            baseline:
                "Postfix 3.7 (private instance) relaying \(messages) plain \(letterSize)-byte mails smtp-source -> smtp-sink, \(concurrency) sessions",
            baselineValue: postfixRate,
            extra: [
                "smtp_value": (e2eSMTP * 10).rounded() / 10, "ratio_smtp": ((e2eSMTP / postfixRate) * 1000).rounded() / 1000,
                "bare_https_value": (bareHTTPS * 10).rounded() / 10, "bare_smtp_value": (bareSMTP * 10).rounded() / 10,
                "latency_p50_ms": (latency.p50 * 10).rounded() / 10, "latency_p99_ms": (latency.p99 * 10).rounded() / 10,
                "messages": messages, "concurrency": concurrency, "letter_bytes": letterSize,
            ])
        print(try result.jsonLine())
    }

    private var context: AuditContext { AuditContext(actor: "bench", accessPoint: "bench") }

    /// Enqueues all letters (their recipients' copies prepared first, untimed), wakes the
    /// running scheduler, and waits for the last to reach `expect`: letters per second from
    /// the first enqueue to the last settlement.
    private func endToEnd(
        _ letters: [Data], to recipient: String, store: any MessageStore, worker: DeliveryWorker, parts: DeliveryWorker.Parts,
        expect: DeliveryState
    ) async throws -> Double {
        let outbound = try prepare(letters, to: recipient, store: store, parts: parts)
        let before = try count(expect, in: store)
        let start = DispatchTime.now().uptimeNanoseconds
        for chunk in stride(from: 0, to: outbound.count, by: 100) {
            _ = try store.enqueueBatch(Array(outbound[chunk..<min(chunk + 100, outbound.count)]), now: Date(), context: context)
            worker.wake()
        }
        let deadline = Date().addingTimeInterval(300)
        while try count(expect, in: store) < before + letters.count {
            guard Date() < deadline else { throw CommandFailure("the letters did not all reach \(expect.rawValue) within 300 s") }
            try await Task.sleep(nanoseconds: 2_000_000)
        }
        return Double(letters.count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// One letter every 100 ms, each enqueued and the scheduler woken as `koerier enqueue`
    /// does; the store's own timestamps give enqueue -> acknowledged per letter.
    private func latencyAtTenPerSecond(
        _ letters: [Data], store: any MessageStore, worker: DeliveryWorker, parts: DeliveryWorker.Parts
    ) async throws -> (p50: Double, p99: Double) {
        var ids: [Int64] = []
        for outbound in try prepare(letters, to: "gp", store: store, parts: parts) {
            ids.append(try store.enqueue(outbound, now: Date(), context: context).record.id)
            worker.wake()
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        let deadline = Date().addingTimeInterval(60)
        var latencies: [Double] = []
        while latencies.count < ids.count {
            guard Date() < deadline else { throw CommandFailure("the latency letters were not all acknowledged") }
            latencies = try ids.compactMap { id in
                try store.record(id).flatMap { $0.state == .acknowledged ? $0.updatedAt.timeIntervalSince($0.createdAt) * 1000 : nil }
            }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        latencies.sort()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)] }
        return (percentile(0.5), percentile(0.99))
    }

    private func prepare(_ letters: [Data], to recipient: String, store: any MessageStore, parts: DeliveryWorker.Parts) throws
        -> [OutboundMessage]
    {
        let codec = try global.loadCodec().1
        guard let entry = parts.directory[recipient] else { throw CommandFailure("bench directory incomplete") }
        let queue = LetterQueue(adapters: parts.adapters)
        return try letters.map { bytes in
            let message = try codec.decode(bytes)
            let bsn: String? = { if case .returnLetter(let letter) = message { return letter.patient.bsn.digits } else { return nil } }()
            return try queue.outbound(
                message, bytes: bytes, to: entry, urgency: .routine, clientReference: bsn.map { store.clientReferencer.reference(bsn: $0) })
        }
    }

    private func count(_ state: DeliveryState, in store: any MessageStore) throws -> Int {
        try store.counts().filter { $0.state == state }.map(\.count).reduce(0, +)
    }

    /// The same letter under a new id (the latency run must not repeat one the HTTPS run sent).
    private func resigned(_ bytes: Data, centre: MessageSigning, codec: MessageCodec) throws -> Data {
        guard case .returnLetter(var letter) = try codec.decode(bytes) else { throw CommandFailure("not a return letter") }
        letter.envelope.messageID = .generate()
        return try centre.signedXML(.returnLetter(letter))
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
             smtp: {to: hr@bench.test, relay: 127.0.0.1, port: \(smtpPort), relay_anchors: \(anchors), certificate: \(pki.appendingPathComponent("employer-smime.pem").path)}}
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
        var received = Data()
        while !received.contains(0x0A) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }  // end of file: the server exited
            received.append(chunk)
        }
        let line = String(decoding: received, as: UTF8.self)
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
