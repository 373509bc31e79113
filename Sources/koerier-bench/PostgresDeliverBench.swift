import Foundation
import KoerierConfig
import KoerierDelivery
import KoerierSecurity
import KoerierServer
import KoerierStore
import KoerierXML

/// `deliver --store postgres`: letters/s from one shared PostgreSQL queue to a loopback
/// Koerier receiver (mutual TLS; each letter verified, stored in the receiver's own SQLite
/// store and answered with a signed receipt), with 1 and with 3 daemons
/// draining it. Each daemon is a scheduler with its own connection pool and owner name,
/// as `koerier serve` runs it; here they share the bench's process. The partner's limit
/// holds for all daemons together, so 3 daemons add parallel work (verifying, signing,
/// storing) but not more transfers at once to the one partner. The JSON line's baseline is
/// the 1-daemon rate of the same run; its ratio is the scaling, 3 ÷ 1.
enum PostgresDeliverBench {
    static func run(configuration: KoerierConfiguration, codec: MessageCodec, messages: Int, concurrency: Int, scratch: URL) async throws {
        let pki = configuration.samplesDirectory.appendingPathComponent("pki")
        let cluster = try BenchPostgres.start()
        defer { cluster.stop() }
        let receiverStore = try BenchLoopback.scratchStore(in: scratch, named: "gp-receiver")
        let port = try await BenchLoopback.storingReceiver(store: receiverStore, codec: codec, pki: pki, scratch: scratch)
        let centre = try BenchLoopback.signing(as: "centre", pki: pki, codec: codec)
        let sample = try Data(contentsOf: configuration.samplesDirectory.appendingPathComponent("signed/return-letter-fase-2-rsa.xml"))
        guard case .returnLetter(let template) = try codec.decode(sample) else { throw CommandFailure("the sample is not a return letter") }
        try PayloadKeyRing.createKeyFile(at: scratch.appendingPathComponent("payload.keys"))

        var rates: [Int: Double] = [:]
        for daemons in [1, 3] {
            let database = "deliver_\(daemons)"
            let (status, output) = BenchPostgres.shell(
                "\(cluster.binaries)/createdb -h \(cluster.folder) -p \(cluster.port) -U koerier \(database)")
            guard status == 0 else { throw CommandFailure("createdb: \(output)") }
            let config = try writeConfiguration(
                in: scratch, url: "postgres://koerier@localhost/\(database)?host=\(cluster.folder)&port=\(cluster.port)", pki: pki,
                schemas: configuration.schemaDirectory, port: port, concurrency: concurrency)
            let benchConfiguration = try KoerierConfiguration.load(path: config.path)
            let keys = try PayloadKeyRing.load(file: benchConfiguration.payloadKeyFile)
            let stores = try (0..<daemons).map { index in
                try ConfiguredStore.open(benchConfiguration, keys: keys, auditKey: nil, migrate: index == 0)
            }
            print("signing \(messages) distinct letters …")
            let parts0 = try DeliveryAssembly.parts(configuration: benchConfiguration, store: stores[0], codec: codec)
            guard let gp = parts0.directory["gp"] else { throw CommandFailure("bench directory incomplete") }
            let letterQueue = LetterQueue(adapters: parts0.adapters)
            let outbound = try BenchProgress.map(messages, "signing letters") { _ in
                var letter = template
                letter.envelope.messageID = .generate()
                return try letterQueue.outbound(
                    .returnLetter(letter), bytes: try centre.signedXML(.returnLetter(letter)), to: gp, urgency: .routine,
                    clientReference: nil)
            }
            let workers = try stores.enumerated().map { index, store in
                DeliveryAssembly.worker(
                    configuration: benchConfiguration,
                    parts: try DeliveryAssembly.parts(configuration: benchConfiguration, store: store, codec: codec),
                    owner: "bench-daemon-\(index)")
            }
            let running = workers.map { worker in Task { try await worker.run { false } } }
            let wakeups = stores.compactMap { $0 as? any StoreWakeups }.enumerated().map { index, wakeups in
                Task { await wakeups.listenForWakeups { workers[index].wake() } }
            }
            let context = AuditContext(actor: "bench", accessPoint: "bench")
            let start = DispatchTime.now().uptimeNanoseconds
            for chunk in stride(from: 0, to: outbound.count, by: 100) {
                _ = try stores[0].enqueueBatch(Array(outbound[chunk..<min(chunk + 100, outbound.count)]), now: Date(), context: context)
            }
            let deadline = Date().addingTimeInterval(300)
            while try stores[0].counts().first(where: { $0.state == .acknowledged })?.count ?? 0 < messages {
                guard Date() < deadline else { throw CommandFailure("the letters were not all acknowledged within 300 s") }
                try await Task.sleep(nanoseconds: 5_000_000)
            }
            let rate = Double(messages) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            for worker in workers { worker.stop() }
            for task in running { _ = try? await task.value }
            for task in wakeups { task.cancel() }
            guard try stores[0].verifyAudit() == nil else { throw CommandFailure("the audit chain does not verify after the run") }
            rates[daemons] = rate
            try BenchLoopback.requireReceived(rates.count * messages, in: receiverStore)
            print(String(format: "%d daemon(s) on one PostgreSQL -> HTTPS receiver: %7.1f letters/s", daemons, rate))
        }
        let result = BenchResult(
            bench: "deliver-postgres", value: rates[3] ?? 0,
            baseline: "the same letters with 1 daemon on the same cluster, same run (ratio: 3 daemons ÷ 1)",
            baselineValue: rates[1] ?? 0,
            extra: ["messages": messages, "concurrency": concurrency, "daemons": 3, "cores": ProcessInfo.processInfo.activeProcessorCount])
        print(try result.jsonLine())
    }

    private static func writeConfiguration(
        in folder: URL, url: String, pki: URL, schemas: URL, port: Int, concurrency: Int
    ) throws -> URL {
        let anchors = pki.appendingPathComponent("ca.pem").path
        try """
        schemas: \(schemas.path)
        trust: {anchors: \(anchors), crl: \(pki.appendingPathComponent("crl.pem").path)}
        store: {backend: postgres, url: "\(url)", key_file: payload.keys, pool_size: 16}
        recipients: recipients.yaml
        identity: {key: \(pki.appendingPathComponent("centre.key").path), certificate: \(pki.appendingPathComponent("centre.pem").path), chain: \(pki.appendingPathComponent("chain.pem").path)}
        delivery: {mail_from: koerier@bench.test}
        """.write(to: folder.appendingPathComponent("koerier-postgres.yaml"), atomically: true, encoding: .utf8)
        try """
        recipients:
          - {id: gp, name: Huisartsenpraktijk De Linde, type: huisarts, ura: "90000123", concurrency: \(concurrency),
             https: {url: "https://localhost:\(port)/v1/messages", server_anchors: \(anchors)}}
        """.write(to: folder.appendingPathComponent("recipients.yaml"), atomically: true, encoding: .utf8)
        return folder.appendingPathComponent("koerier-postgres.yaml")
    }
}
