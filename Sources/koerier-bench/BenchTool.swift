import Foundation

/// Runs a helper program a bench needs (postfix, python3, pip) to completion; its standard
/// error, trimmed, is the failure's reason.
enum BenchTool {
    static func run(_ executable: String, _ arguments: [String], doing what: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailure("cannot \(what): \(String(decoding: message, as: UTF8.self).suffix(400))")
        }
    }
}

/// The benches' long preparations (signing thousands of letters) with a progress bar on a
/// terminal, plain lines otherwise.
enum BenchProgress {
    static func map<T>(_ count: Int, _ label: String, _ body: (Int) throws -> T) rethrows -> [T] {
        let bar = ProgressBar(label)
        var results: [T] = []
        results.reserveCapacity(count)
        for index in 0..<count {
            results.append(try body(index))
            bar.update(index + 1, of: count)
        }
        return results
    }
}
