import Foundation
import GRDB
import KoerierModel
import KoerierStore
import KoerierTestSupport
import Testing

/// A producer enqueues as fast as it can and prints each id once its enqueue returned; it
/// is killed with SIGKILL at different moments, several rounds on the same store. Every
/// printed id must be there afterwards, decrypt intact, and the store must open cleanly.
@Suite struct CrashTests {
    @Test func nothingAcceptedIsLostWhenTheProcessIsKilled() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let keyFile = folder.appendingPathComponent("payload.keys")
        try PayloadKeyRing.createKeyFile(at: keyFile)
        let path = folder.appendingPathComponent("koerier.sqlite").path
        var printed: [String] = []
        // Kill moments spread over the run (milliseconds after the first printed id).
        for delay in [150, 420, 60, 700, 300, 90] {
            printed += try runAndKill(store: path, keyFile: keyFile.path, afterMilliseconds: delay)
        }
        #expect(printed.count > 50, "the producer printed only \(printed.count) ids")

        let store = try SQLiteMessageStore(path: path, keys: try PayloadKeyRing.load(file: keyFile))
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
    /// complete lines it printed (a line cut by the kill is not a printed id).
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
        let deadline = Date().addingTimeInterval(30)
        while !data.contains(0x0A) && Date() < deadline { data.append(handle.availableData) }
        usleep(UInt32(afterMilliseconds * 1000))
        kill(process.processIdentifier, SIGKILL)
        data.append(handle.readDataToEndOfFile())
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast()  // after the last newline: empty, or a line the kill cut short
        return lines.filter { (try? MessageID($0)) != nil }
    }
}
