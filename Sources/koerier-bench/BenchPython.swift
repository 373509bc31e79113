import Foundation

/// The Python interpreters the benches' baselines run in. Debian's own /usr/bin/python3
/// carries what `.ci/setup` installs from Debian (lxml); packages only a bench needs
/// (signxml) live in a virtual environment the bench makes itself, in the user's cache
/// folder, so the system Python is never changed and whatever python3 is first on PATH
/// does not matter.
enum BenchPython {
    static let system = "/usr/bin/python3"

    /// An interpreter that can import `module`, from a virtual environment (made on first
    /// use, with Debian's packages visible) where `package` is installed from PyPI.
    static func environment(providing module: String, package: String) throws -> String {
        let cache =
            ProcessInfo.processInfo.environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        let folder = cache.appendingPathComponent("koerier/bench-venv")
        let python = folder.appendingPathComponent("bin/python").path
        if !FileManager.default.isExecutableFile(atPath: python) {
            FileHandle.standardError.write(Data("koerier-bench: making a Python environment for \(package) in \(folder.path)\n".utf8))
            try BenchTool.run(
                system, ["-m", "venv", "--system-site-packages", folder.path], doing: "make the virtual environment (python3-venv)")
        }
        if (try? BenchTool.run(python, ["-c", "import \(module)"], doing: "")) == nil {
            FileHandle.standardError.write(Data("koerier-bench: installing \(package) into \(folder.path)\n".utf8))
            try BenchTool.run(
                python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", package], doing: "install \(package)")
        }
        return python
    }
}
