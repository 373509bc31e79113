import Foundation
import KoerierCommandLine

/// Postfix (Debian's package) as the peer baseline: a private instance in a scratch folder
/// (its own configuration, queue and log; the machine's own Postfix is not touched) relays
/// plain mails from `smtp-source` to `smtp-sink`, end to end, as Postfix's own tools do.
final class PostfixPeer {
    private let folder: URL
    private var configuration: URL { folder.appendingPathComponent("etc") }
    let port: Int
    let sinkPort: Int
    private var sink: Process?

    /// `.ci/setup` installs it (Debian's postfix, "Local only").
    static let installHint = "Postfix is not installed: run .ci/setup (it installs Debian's postfix package)"

    init(folder: URL) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/postfix"),
            FileManager.default.isExecutableFile(atPath: "/usr/sbin/smtp-source")
        else { throw CommandFailure(Self.installHint, exitCode: .configurationError) }
        self.folder = folder
        port = try Self.freePort()
        sinkPort = try Self.freePort()
        for name in ["etc", "spool", "data"] {
            try FileManager.default.createDirectory(
                at: folder.appendingPathComponent(name), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        // The master and its daemons write their lock and caches here as the postfix user.
        try BenchTool.run(
            "/bin/chown", ["postfix", folder.appendingPathComponent("data").path], doing: "give the postfix user its data folder")
        try writeConfiguration()
        try BenchTool.run("/usr/sbin/postfix", ["-c", configuration.path, "start"], doing: "start the private Postfix instance")
    }

    deinit {
        try? BenchTool.run("/usr/sbin/postfix", ["-c", configuration.path, "stop"], doing: "stop the private Postfix instance")
        if let sink, sink.isRunning { kill(sink.processIdentifier, SIGKILL) }
    }

    /// Postfix's own log, for a failure message.
    var log: String { (try? String(contentsOf: folder.appendingPathComponent("maillog"), encoding: .utf8)) ?? "" }

    /// Mails per second from the first byte `smtp-source` sends to the last mail `smtp-sink`
    /// took from Postfix: `count` mails of `size` bytes over `sessions` parallel sessions.
    func relayRate(count: Int, size: Int, sessions: Int) throws -> Double {
        let sinkLog = folder.appendingPathComponent("sink.log")
        _ = FileManager.default.createFile(atPath: sinkLog.path, contents: nil)
        let sink = Process()
        sink.executableURL = URL(fileURLWithPath: "/usr/sbin/smtp-sink")
        sink.arguments = ["-u", "nobody", "-c", "127.0.0.1:\(sinkPort)", "256"]
        sink.standardOutput = try FileHandle(forWritingTo: sinkLog)
        try sink.run()
        self.sink = sink
        try Self.waitForListener(port: sinkPort)
        let start = DispatchTime.now().uptimeNanoseconds
        try BenchTool.run(
            "/usr/sbin/smtp-source",
            [
                "-s", "\(sessions)", "-m", "\(count)", "-l", "\(size)", "-f", "bench@bench.localdomain", "-t", "peer@example.test",
                "127.0.0.1:\(port)",
            ], doing: "relay mails with smtp-source")
        let deadline = Date().addingTimeInterval(120)
        while Self.delivered(log: sinkLog) < count {
            guard Date() < deadline else { throw CommandFailure("Postfix relayed only \(Self.delivered(log: sinkLog)) of \(count) mails") }
            Thread.sleep(forTimeInterval: 0.005)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        // smtp-sink does not stop on SIGTERM; its count is what was needed.
        kill(sink.processIdentifier, SIGKILL)
        sink.waitUntilExit()
        self.sink = nil
        return Double(count) / seconds
    }

    /// smtp-sink -c rewrites one counter line with carriage returns.
    private static func delivered(log: URL) -> Int {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(whereSeparator: { $0 == "\r" || $0 == "\n" }).last.flatMap { line in
            line.split(separator: "=").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        } ?? 0
    }

    private func writeConfiguration() throws {
        let template = try String(contentsOfFile: "/etc/postfix/master.cf", encoding: .utf8)
        // Every service unchrooted (the scratch queue has no chroot tree); smtpd on our port.
        let services = template.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard let first = line.first, first != "#", first != " ", first != "\t" else { return String(line) }
            var fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count >= 8 else { return String(line) }
            if fields[0] == "smtp" && fields[1] == "inet" { fields[0] = "127.0.0.1:\(port)" }
            fields[4] = "n"
            return fields.joined(separator: " ")
        }
        try services.joined(separator: "\n").write(to: configuration.appendingPathComponent("master.cf"), atomically: true, encoding: .utf8)
        try """
        compatibility_level = 3.6
        queue_directory = \(folder.appendingPathComponent("spool").path)
        data_directory = \(folder.appendingPathComponent("data").path)
        meta_directory = /etc/postfix
        mail_owner = postfix
        setgid_group = postdrop
        inet_interfaces = loopback-only
        inet_protocols = ipv4
        myhostname = bench.localdomain
        mydestination =
        mynetworks = 127.0.0.0/8
        relayhost = [127.0.0.1]:\(sinkPort)
        default_transport = smtp
        relay_transport = relay
        alias_maps =
        maillog_file = \(folder.appendingPathComponent("maillog").path)
        maillog_file_prefixes = \(folder.path)
        smtpd_tls_security_level = none
        smtp_tls_security_level = none

        """.write(to: configuration.appendingPathComponent("main.cf"), atomically: true, encoding: .utf8)
    }

    private static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw CommandFailure("no free loopback port for Postfix") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func waitForListener(port: Int) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            close(descriptor)
            if connected { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw CommandFailure("nothing listens on 127.0.0.1:\(port)")
    }
}
