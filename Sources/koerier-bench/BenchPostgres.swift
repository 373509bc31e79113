import Foundation

/// A private PostgreSQL cluster for a bench, in a temporary folder: initdb, then pg_ctl with
/// a Unix socket there and fsync on (as a production cluster). Debian's server packages
/// (.ci/setup). Stopped and removed by `stop`. pgbench runs against the same cluster.
struct BenchPostgres {
    let folder: String
    let port: Int
    let binaries: String

    /// As root, the cluster belongs to Debian's postgres user (initdb refuses root).
    private static var owner: String { getuid() == 0 ? "runuser -u postgres -- " : "" }

    static func start() throws -> BenchPostgres {
        guard
            let binaries = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?.sorted().last
                .map({ "/usr/lib/postgresql/\($0)/bin" })
        else { throw CommandFailure("no PostgreSQL server under /usr/lib/postgresql (run .ci/setup)") }
        var template = Array("/tmp/koerier-bench-pg.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw CommandFailure("cannot make a folder for the bench's PostgreSQL") }
        let folder = String(cString: made)
        chmod(folder, 0o755)
        if getuid() == 0 { _ = shell("chown postgres: \(folder)") }
        // A Unix socket only, in a folder of its own: the port only names the socket file.
        let port = 5432
        let cluster = BenchPostgres(folder: folder, port: port, binaries: binaries)
        func step(_ command: String) throws {
            let (status, output) = shell(command)
            guard status == 0 else {
                cluster.stop()
                throw CommandFailure("starting the bench's PostgreSQL failed: \(output)")
            }
        }
        try step("\(owner)\(binaries)/initdb -D \(folder)/data -U koerier --auth=trust -E UTF8 --locale=C.UTF-8")
        let settings =
            "listen_addresses = ''\nport = \(port)\nunix_socket_directories = '\(folder)'\nmax_connections = 200\nshared_buffers = 256MB\n"
        guard let conf = FileHandle(forWritingAtPath: "\(folder)/data/postgresql.conf") else {
            cluster.stop()
            throw CommandFailure("cannot write the bench's postgresql.conf")
        }
        conf.seekToEndOfFile()
        conf.write(Data(settings.utf8))
        conf.closeFile()
        try step("\(owner)\(binaries)/pg_ctl -D \(folder)/data -l \(folder)/server.log -w start")
        try step("\(owner)\(binaries)/createdb -h \(folder) -p \(port) -U koerier koerier")
        return cluster
    }

    var url: String { "postgres://koerier@localhost/koerier?host=\(folder)&port=\(port)" }

    /// pgbench's output, run against this cluster's database.
    func pgbench(_ arguments: String) throws -> String {
        let (status, output) = Self.shell("\(binaries)/pgbench -h \(folder) -p \(port) -U koerier \(arguments) koerier")
        guard status == 0 else { throw CommandFailure("pgbench \(arguments) failed: \(output)") }
        return output
    }

    func stop() {
        _ = Self.shell("\(Self.owner)\(binaries)/pg_ctl -D \(folder)/data stop -m fast")
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Runs a shell command and waits for it (posix_spawn and waitpid: Foundation's Process
    /// was seen never to reap a command whose pg_ctl leaves a server behind).
    static func shell(_ command: String) -> (status: Int32, output: String) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("koerier-bench-\(UUID().uuidString).out").path
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
}
