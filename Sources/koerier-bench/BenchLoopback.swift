import Foundation
import KoerierSecurity
import KoerierServer
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

    static func startListener(tls: ListenerTLS, handler: @escaping @Sendable (InboundRequest) async -> ListenerAnswer) async throws -> Int {
        let listener = MessageListener(host: "127.0.0.1", port: 0, tls: tls, maxBodyBytes: 1 << 20, logLevel: .critical, handler: handler)
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
