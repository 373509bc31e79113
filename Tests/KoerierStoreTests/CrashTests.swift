import Foundation
import GRDB
import KoerierModel
import KoerierStore
import KoerierTestSupport
import Testing

/// A producer enqueues as fast as it can and prints each id once its enqueue returned; it
/// is killed with SIGKILL at different moments, several rounds on the same store. Every
/// printed id must be there afterwards, decrypt intact, and the store must open cleanly.
@Suite(.ownThreads) struct CrashTests {
    /// A fresh folder with a payload key file, and where the store goes.
    static func scratchStore() throws -> (folder: URL, keyFile: URL, path: String) {
        let folder = try Repository.temporaryDirectory()
        let keyFile = folder.appendingPathComponent("payload.keys")
        try PayloadKeyRing.createKeyFile(at: keyFile)
        return (folder, keyFile, folder.appendingPathComponent("koerier.sqlite").path)
    }

    @Test func nothingAcceptedIsLostWhenTheProcessIsKilled() throws {
        let (folder, keyFile, path) = try Self.scratchStore()
        defer { try? FileManager.default.removeItem(at: folder) }
        var printed: [String] = []
        // Kill moments spread over the run (milliseconds after the first printed id).
        for delay in [150, 420, 60, 700, 300, 90] {
            printed += try runAndKill(store: path, keyFile: keyFile.path, afterMilliseconds: delay)
        }
        #expect(printed.count > 50, "the producer printed only \(printed.count) ids")

        let store = try MessageStores.embedded(path: path, keys: try PayloadKeyRing.load(file: keyFile))
        let ops = AuditContext(actor: "crash-test", accessPoint: "test")
        let stored = Dictionary(
            try store.records(state: nil, recipientType: nil, since: nil, limit: 10_000_000).map { ($0.messageID, $0.id) },
            uniquingKeysWith: { first, _ in first })
        let missing = printed.filter { stored[$0] == nil }
        #expect(missing.isEmpty, "\(missing.count) accepted ids missing, e.g. \(missing.prefix(3))")
        for id in printed {
            guard let record = stored[id] else { continue }
            #expect(try store.payload(of: record, now: Date(), context: ops) == Data("payload of \(id)".utf8))
        }
        #expect(try store.verifyAudit() == nil)
        let integrity = try DatabaseQueue(path: path).read { try String.fetchOne($0, sql: "PRAGMA integrity_check") }
        #expect(integrity == "ok")
    }

    /// Starts the producer, kills it `afterMilliseconds` after its first id, and returns the
    /// complete lines it printed (a line cut by the kill is not a printed id). The producer
    /// must still be running when the kill comes, and die of that SIGKILL.
    private func runAndKill(store: String, keyFile: String, afterMilliseconds: Int) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessRunner.builtExecutable("KoerierCrashProducer"))
        process.arguments = [store, keyFile]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var data = Data()
        let handle = output.fileHandleForReading
        // Wait for the first id, then let it run and kill it mid-flight.
        while !data.contains(0x0A) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            data.append(chunk)
        }
        usleep(UInt32(afterMilliseconds * 1000))
        let runningAtKill = process.isRunning
        kill(process.processIdentifier, SIGKILL)
        data.append(handle.readDataToEndOfFile())
        process.waitUntilExit()
        #expect(runningAtKill, "the producer stopped by itself before the kill")
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)
        return Self.ids(in: data)
    }

    /// The complete id lines of a producer's output.
    static func ids(in data: Data) -> [String] {
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast()  // after the last newline: empty, or a line the kill cut short
        return lines.filter { (try? MessageID($0)) != nil }
    }

    /// SIGKILL keeps the page cache, so it cannot tell a flushed commit from one left in
    /// memory. Here the disk's flush fails instead (strace makes every fdatasync and fsync
    /// from the 40th on return EIO): from then on no enqueue may report success, and what
    /// was reported before must all be there. A store that does not flush each commit
    /// (synchronous=NORMAL or OFF) goes on printing ids and fails this test.
    @Test func nothingIsReportedStoredOnceTheDiskCannotFlush() throws {
        let (folder, keyFile, path) = try Self.scratchStore()
        defer { try? FileManager.default.removeItem(at: folder) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/strace")
        process.arguments = [
            "-f", "-qq", "-o", "/dev/null", "-e", "trace=fsync,fdatasync", "-e", "inject=fsync,fdatasync:error=EIO:when=40+",
            ProcessRunner.builtExecutable("KoerierCrashProducer"), path, keyFile.path, "2000",
        ]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Bounded: a producer that never fails stops by itself after 2,000 ids (exit 0: the test fails).
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let printed = Self.ids(in: data)
        #expect(process.terminationStatus == 3, "the producer kept going: \(printed.count) ids")
        #expect(printed.count < 40, "\(printed.count) enqueues reported success with at most 39 flushes")
        #expect(stderr.contains("the disk reported an I/O error (nothing was stored)"), "\(stderr)")

        let store = try MessageStores.embedded(path: path, keys: try PayloadKeyRing.load(file: keyFile))
        let stored = Set(try store.records(state: nil, recipientType: nil, since: nil, limit: 10_000).map(\.messageID))
        #expect(printed.allSatisfy { stored.contains($0) })
        #expect(try store.verifyAudit() == nil)
    }
}
