import Foundation

/// Runs a real program (the koerier binary, xmllint, python3) and captures its output.
public struct ProcessResult: Sendable {
    public let exitCode: Int32
    public let stdout: String
    public let stderr: String
}

public enum ProcessRunner {
    /// Debian's own interpreter, whatever python3 comes first on PATH: `.ci/setup` installs
    /// the peers' modules (aiosmtpd, lxml) for it.
    public static let python = "/usr/bin/python3"

    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        currentDirectory: URL? = nil
    ) throws -> ProcessResult {
        let process = Process()
        process.executableURL = executable.hasPrefix("/") ? URL(fileURLWithPath: executable) : URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes concurrently so neither fills up and blocks the child.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return ProcessResult(
            exitCode: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    /// `run`, waited for on a thread of its own: a program that takes seconds (a scanner, a
    /// slow client) must not hold one of the cooperative pool's few threads, which the
    /// in-process listeners and schedulers of tests running beside it need.
    public static func runOffPool(_ executable: String, _ arguments: [String]) async throws -> ProcessResult {
        try await offPool { try run(executable, arguments) }
    }

    /// `body` on a thread of its own (blocking work a test waits for).
    public static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    /// The `koerier` binary that `swift test` built next to the test bundle.
    public static var koerierBinary: String { builtExecutable("koerier") }
    public static var benchBinary: String { builtExecutable("koerier-bench") }

    /// An executable product that `swift test` built next to the test bundle. There is no
    /// fallback to another build folder: a stale binary would test old code.
    public static func builtExecutable(_ name: String) -> String {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        // The test runner may live inside a bundle folder (…/X.xctest/…); walk up to the build folder.
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            folder = folder.deletingLastPathComponent()
        }
        fatalError("\(name) was not built next to the test runner (\(executable.path)): run `swift build --build-tests` first")
    }

    public static func koerier(
        _ arguments: [String], environment: [String: String]? = nil,
        currentDirectory: URL? = nil
    ) throws -> ProcessResult {
        try run(koerierBinary, arguments, environment: environment, currentDirectory: currentDirectory)
    }
}
