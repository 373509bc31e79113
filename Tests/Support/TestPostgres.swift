import Foundation

/// The tests' real PostgreSQL: the private cluster `.ci/run` started (its `.ci/postgres`
/// exports KOERIER_TEST_POSTGRES_*), or, when a developer runs `swift test` alone, one this
/// process starts with the same script and stops at exit. Each test gets a database of its own.
public enum TestPostgres {
    public struct Cluster: Sendable {
        public let socketFolder: String
        public let port: String
        public let dataFolder: String
        public let binaries: String

        /// The store URL of `database` on this cluster (Unix socket).
        public func url(database: String = "koerier") -> String {
            "postgres://koerier@localhost/\(database)?host=\(socketFolder)&port=\(port)"
        }

        /// pg_ctl as the cluster's owner (`restart -m immediate`, `stop`): its exit status and output.
        @discardableResult
        public func control(_ arguments: String) -> (status: Int32, output: String) {
            TestPostgres.shell("\(TestPostgres.ownerPrefix)\(binaries)/pg_ctl -D \(dataFolder) -l \(socketFolder)/server.log \(arguments)")
        }

        public func stop() {
            control("stop -m immediate")
            try? FileManager.default.removeItem(atPath: socketFolder)
        }
    }

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    nonisolated(unsafe) private static var started: Result<Cluster, Unavailable>?
    private static let lock = NSLock()

    public static func cluster() throws -> Cluster {
        lock.lock()
        defer { lock.unlock() }
        if let started { return try started.get() }
        let environment = ProcessInfo.processInfo.environment
        if let folder = environment["KOERIER_TEST_POSTGRES_DIR"], let port = environment["KOERIER_TEST_POSTGRES_PORT"] {
            let cluster = Cluster(
                socketFolder: folder, port: port, dataFolder: folder + "/data",
                binaries: environment["KOERIER_TEST_POSTGRES_BIN"] ?? "/usr/lib/postgresql/15/bin")
            started = .success(cluster)
            return cluster
        }
        let result = Result<Cluster, Unavailable> { () throws(Unavailable) -> Cluster in
            let cluster = try startCluster()
            startedHere = cluster
            atexit { TestPostgres.stopStartedHere() }
            return cluster
        }
        started = result
        return try result.get()
    }

    nonisolated(unsafe) private static var startedHere: Cluster?

    /// Runs a shell command and waits for it; its exit status and output. Spawned and
    /// waited for directly: Foundation's Process was seen never to reap a command whose
    /// pg_ctl leaves a server behind, hanging the test in waitUntilExit.
    public static func shell(_ command: String) -> (status: Int32, output: String) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("koerier-pg-\(UUID().uuidString).out").path
        defer { unlink(output) }
        var pid: pid_t = 0
        let words: [String] = ["/bin/sh", "-c", "\(command) > \(output) 2>&1"]
        let arguments: [UnsafeMutablePointer<CChar>?] = words.map { word in word.withCString { strdup($0) } } + [nil]
        defer { for argument in arguments { free(argument) } }
        var status: Int32 = 0
        guard posix_spawn(&pid, "/bin/sh", nil, nil, arguments, environ) == 0, waitpid(pid, &status, 0) == pid else {
            return (-1, "cannot run \(command)")
        }
        return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    /// A new cluster with `.ci/postgres` (for a test that restarts its database; the caller stops it).
    public static func startCluster() throws(Unavailable) -> Cluster {
        let script = Repository.root.appendingPathComponent(".ci/postgres").path
        let (status, printed) = shell(script)
        guard status == 0 else { throw Unavailable(description: "cannot start a private PostgreSQL with .ci/postgres: \(printed)") }
        var values: [String: String] = [:]
        for line in printed.split(separator: "\n") where line.hasPrefix("export ") {
            let pair = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { values[String(pair[0])] = String(pair[1]).trimmingCharacters(in: CharacterSet(charactersIn: "'")) }
        }
        guard let folder = values["KOERIER_TEST_POSTGRES_DIR"], let port = values["KOERIER_TEST_POSTGRES_PORT"],
            let binaries = values["KOERIER_TEST_POSTGRES_BIN"]
        else { throw Unavailable(description: ".ci/postgres printed no cluster") }
        return Cluster(socketFolder: folder, port: port, dataFolder: folder + "/data", binaries: binaries)
    }

    /// At exit: the cluster this process started goes with it.
    static func stopStartedHere() { startedHere?.stop() }

    /// As root, the cluster belongs to Debian's postgres user (initdb refuses root).
    public static var ownerPrefix: String { getuid() == 0 ? "runuser -u postgres -- " : "" }

    /// A new empty database on the cluster; its store URL (Unix socket).
    public static func freshDatabase() throws -> String {
        let cluster = try cluster()
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try psql("CREATE DATABASE \(name)", database: "koerier")
        return url(database: name)
    }

    public static func url(database: String) -> String {
        let cluster = (try? started?.get()) ?? Cluster(socketFolder: "/nonexistent", port: "5432", dataFolder: "", binaries: "")
        return "postgres://koerier@localhost/\(database)?host=\(cluster.socketFolder)&port=\(cluster.port)"
    }

    /// Runs SQL with Debian's psql (an independent client) and returns its unaligned output.
    @discardableResult
    public static func psql(_ sql: String, database: String) throws -> String {
        let cluster = try cluster()
        let run = try ProcessRunner.run(
            "/usr/bin/psql",
            [
                "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", cluster.socketFolder, "-p", cluster.port, "-U", "koerier", "-d",
                database,
                "-c", sql,
            ])
        guard run.exitCode == 0 else { throw Unavailable(description: "psql failed: \(run.stderr)") }
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The database name in a store URL made by `freshDatabase`.
    public static func databaseName(of url: String) -> String {
        URLComponents(string: url)?.path.trimmingCharacters(in: CharacterSet(charactersIn: "/")) ?? ""
    }
}
