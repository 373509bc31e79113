import Foundation

/// Independent checkers from PyPI (sslyze) that Debian does not package: installed on first
/// use into a virtual environment in the user's cache folder (as the benches do for
/// signxml), so the system Python is never changed.
public enum PythonTool {
    private static let lock = NSLock()

    /// An interpreter that imports `module`, with `package` installed from PyPI if needed.
    public static func ensure(package: String, module: String) throws -> String {
        try lock.withLock {
            let cache =
                ProcessInfo.processInfo.environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
            let folder = cache.appendingPathComponent("koerier/test-venv")
            let python = folder.appendingPathComponent("bin/python").path
            if !FileManager.default.isExecutableFile(atPath: python) {
                try require(ProcessRunner.run(ProcessRunner.python, ["-m", "venv", folder.path]), "make a virtual environment")
            }
            if try ProcessRunner.run(python, ["-c", "import \(module)"]).exitCode != 0 {
                try require(
                    ProcessRunner.run(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", package]),
                    "install \(package)")
            }
            return python
        }
    }

    private static func require(_ result: ProcessResult, _ doing: String) throws {
        guard result.exitCode == 0 else { throw PythonToolFailure(message: "cannot \(doing): \(result.stderr)") }
    }
}

public struct PythonToolFailure: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
