import Foundation
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL store lives, from `store.url` in the configuration:
/// - `postgres://USER@HOST:PORT/DATABASE?sslrootcert=FILE`: TCP, always TLS with the server's
///   certificate verified against FILE (or the system's roots) and its name checked;
/// - `postgres://USER@/DATABASE?host=/run/postgresql&port=5432`: a Unix socket (libpq's
///   form), where TLS adds nothing and is not used.
/// A password comes from `password_file=FILE` (owner-only), never from the URL itself, so
/// the configuration can be shown and committed. Relative files are relative to the
/// configuration file's folder.
public struct PostgresLocation: Sendable, Equatable {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int, rootCertificate: URL?)
        case unixSocket(path: String)
    }

    public let endpoint: Endpoint
    public let user: String
    public let database: String
    public let passwordFile: URL?

    /// Parses the URL; every refusal names the part of the URL and the rule.
    public init(url text: String, relativeTo folder: URL) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw StoreError("store.url: expected postgres://USER@HOST:PORT/DATABASE (or ?host=/socket/folder for a Unix socket)")
        }
        if components.password != nil {
            throw StoreError("store.url: a password in the URL is refused (it would be shown and logged); use ?password_file=FILE")
        }
        guard let user = components.user, !user.isEmpty else { throw StoreError("store.url: the user is missing (postgres://USER@…)") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw StoreError("store.url: the database name is missing or has a '/' (postgres://USER@HOST/DATABASE)")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard ["host", "port", "sslrootcert", "password_file", "sslmode"].contains(item.name) else {
                throw StoreError("store.url: unknown parameter '\(item.name)' (host, port, sslrootcert, password_file, sslmode)")
            }
            query[item.name] = item.value ?? ""
        }
        if let mode = query["sslmode"], mode != "verify-full" {
            throw StoreError("store.url: sslmode=\(mode) is refused: over TCP the store always verifies the server (verify-full)")
        }
        func file(_ name: String) -> URL? {
            query[name].map { $0.hasPrefix("/") ? URL(fileURLWithPath: $0) : folder.appendingPathComponent($0) }
        }
        let portText = query["port"] ?? components.port.map(String.init) ?? "5432"
        guard let port = Int(portText), (1...65535).contains(port) else { throw StoreError("store.url: port '\(portText)' is not a port") }
        if let socketFolder = query["host"], socketFolder.hasPrefix("/") {
            endpoint = .unixSocket(path: socketFolder + "/.s.PGSQL.\(port)")
        } else {
            let host = query["host"] ?? components.host ?? ""
            guard !host.isEmpty else { throw StoreError("store.url: the host is missing") }
            endpoint = .tcp(host: host, port: port, rootCertificate: file("sslrootcert"))
        }
        self.user = user
        self.database = database
        passwordFile = file("password_file")
    }

    /// The client's configuration: TLS required over TCP, and per-session timeouts so a stuck
    /// statement, lock wait or forgotten transaction ends instead of holding rows forever.
    func clientConfiguration(timeouts: PostgresTimeouts) throws -> PostgresClient.Configuration {
        let password = try readPassword()
        var configuration: PostgresClient.Configuration
        switch endpoint {
        case .unixSocket(let path):
            configuration = .init(unixSocketPath: path, username: user, password: password, database: database)
        case .tcp(let host, let port, _):
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: .require(try tls()))
        }
        configuration.options.additionalStartupParameters = Self.sessionSettings(timeouts)
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.maximumConnections = timeouts.maximumConnections
        return configuration
    }

    /// The same for one connection of its own (opening the store: its failure is reported
    /// as it is, where the pool would only retry).
    func connectionConfiguration(timeouts: PostgresTimeouts) throws -> PostgresConnection.Configuration {
        let password = try readPassword()
        var configuration: PostgresConnection.Configuration
        switch endpoint {
        case .unixSocket(let path):
            configuration = .init(unixSocketPath: path, username: user, password: password, database: database)
        case .tcp(let host, let port, _):
            configuration = .init(
                host: host, port: port, username: user, password: password, database: database,
                tls: .require(try NIOSSLContext(configuration: try tls())))
        }
        configuration.options.additionalStartupParameters = Self.sessionSettings(timeouts)
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    private static func sessionSettings(_ timeouts: PostgresTimeouts) -> [(String, String)] {
        [
            ("statement_timeout", "\(timeouts.statementMilliseconds)"),
            ("lock_timeout", "\(timeouts.lockMilliseconds)"),
            ("idle_in_transaction_session_timeout", "\(timeouts.idleInTransactionMilliseconds)"),
            ("application_name", "koerier"),
        ]
    }

    private func readPassword() throws -> String? {
        try passwordFile.map { file -> String in
            try PayloadKeyRing.requireOwnerOnly(file, what: "the database password file")
            guard let text = try? String(contentsOf: file, encoding: .utf8) else {
                throw StoreError("\(file.path): the database password file cannot be read")
            }
            return text.trimmingCharacters(in: .newlines)
        }
    }

    /// TLS 1.2 or 1.3, the server's certificate verified and its name checked.
    private func tls() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .fullVerification
        if case .tcp(_, _, let rootCertificate?) = endpoint {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(rootCertificate.path))
            } catch {
                throw StoreError("\(rootCertificate.path): store.url sslrootcert is not a PEM certificate file")
            }
        }
        return tls
    }

    /// Where it is, for messages: no user or password.
    public var description: String {
        switch endpoint {
        case .unixSocket(let path): return "PostgreSQL \(database) on \(path)"
        case .tcp(let host, let port, _): return "PostgreSQL \(database) on \(host):\(port) (TLS)"
        }
    }
}

/// Per-session limits (milliseconds) and the pool's size.
public struct PostgresTimeouts: Sendable {
    public var statementMilliseconds = 30_000
    public var lockMilliseconds = 10_000
    /// Short: a daemon stopped (SIGSTOP, a frozen VM) inside a transaction holds its locks,
    /// the audit chain's among them, until the server ends its session. Koerier's own
    /// transactions never wait for anything but the database between statements.
    public var idleInTransactionMilliseconds = 5_000
    public var maximumConnections = 16
    public init() {}
}
