import Foundation
import Yams

/// The configuration every command and the daemon read. Paths in the file are relative
/// to the file itself, so a config works from any working directory.
public struct KoerierConfiguration: Sendable {
    public static let defaultPath = "Config/koerier.yaml"
    public static let environmentVariable = "KOERIER_CONFIG"

    public let file: URL
    /// Folder with the XSDs (`referral.xsd`, …).
    public let schemaDirectory: URL
    /// Folder with example messages; benchmarks take their typical message from here.
    public let samplesDirectory: URL
    public let maxMessageBytes: Int
    public let maxXMLDepth: Int
    /// Trust anchors (PEM bundle) for verifying signatures, and an optional CRL file.
    public let trustAnchors: URL?
    public let crl: URL?
    /// The certificates (PEM) allowed to sign consent documents: the record system's, never
    /// the gateway's own keys. Without it, no consent document is taken.
    public let consentSigners: URL?
    /// The embedded store (SQLite file) and the payload key file (mode 600).
    public let storePath: URL
    public let payloadKeyFile: URL
    /// The audit chain's HMAC key (`store.audit_key_file`); nil: derived from the payload keys.
    public let auditKeyFile: URL?
    /// An urgent message not delivered within this many seconds is an alarm in `status`.
    public let urgentAlarmSeconds: Int
    /// Free space the store keeps on its disk: new messages are refused below it.
    public let storeMinimumFreeBytes: Int64
    /// Which store: the embedded SQLite file (`storePath`) or a PostgreSQL database that
    /// several daemons share.
    public let storeBackend: StoreBackend
    /// This daemon's name among those sharing a store (`store.instance`, default the host
    /// name): its leases carry it, and a restarted daemon takes back only its own.
    public let instanceName: String

    public enum StoreBackend: Sendable, Equatable {
        case sqlite
        /// `url`: see `PostgresLocation`; the pool's size; per-session timeouts in milliseconds.
        case postgres(url: String, poolSize: Int, statementTimeoutMilliseconds: Int, lockTimeoutMilliseconds: Int)
    }
    /// The recipient directory (`recipients.yaml`).
    public let recipientsFile: URL
    /// This gateway's own key, certificate and intermediates: it signs what it makes,
    /// authenticates itself over mutual TLS, and signs S/MIME mail with them.
    public let identity: Identity?
    public let delivery: DeliverySettings
    public let serve: ServeSettings
    /// The TEST ONLY set-up (the example configuration): file-mode problems are warnings.
    public let testMode: Bool

    /// `koerier serve`: where it listens, its drop folder, how it logs.
    public struct ServeSettings: Sendable {
        /// Intake over HTTPS with mutual TLS.
        public var listenHost = "127.0.0.1"
        public var listenPort = 8443
        /// Health, metrics and phase events: plain HTTP, for this machine only.
        public var adminHost = "127.0.0.1"
        public var adminPort = 9090
        public var inbox: URL
        public var logFormat = "text"
        /// Intake: seconds from connecting (or the previous answer) to a complete request head,
        /// seconds for a request body, and connections at once.
        public var idleTimeoutSeconds = 30
        public var bodyTimeoutSeconds = 60
        public var maxConnections = 256
        /// Unsigned files in the drop folder accepted: only where the folder itself is trusted.
        public var dropFolderTrusted = false
        /// State changes (phase completions) over this Unix domain socket, mode 0660 with
        /// `controlGroup` (0600 without one).
        public var controlSocket: URL
        public var controlGroup: String?
        /// FHIR intake (`POST /fhir/Bundle` on the intake listener); nil: the route answers 404.
        public var fhir: FHIRIntakeSettings?
    }

    /// This gateway's keys. `key`/`certificate`/`chain` sign XML (messages, receipts, audit
    /// checkpoints) and are the default for the other purposes; `tls` (mutual TLS, both
    /// directions) and `smime` (signing mail) may each have a key of their own, so that
    /// one compromised or rotated key does not take the others with it.
    /// Who may post ZorgDomein-style FHIR Bundles: each issuer's bearer JWTs are checked
    /// against its public key, its name (`iss`) and our audience (`aud`).
    public struct FHIRIntakeSettings: Sendable {
        /// The base the answers' Location headers name (`{base}/Bundle/{id}`).
        public var baseURL: String
        public var issuers: [JWTIssuer]
        /// Seconds of clock difference allowed on `exp` and `nbf`.
        public var leewaySeconds: Int

        public init(baseURL: String, issuers: [JWTIssuer], leewaySeconds: Int) {
            self.baseURL = baseURL
            self.issuers = issuers
            self.leewaySeconds = leewaySeconds
        }
    }

    public struct JWTIssuer: Sendable {
        public let issuer: String
        public let audience: String
        /// PEM public key (EC P-256/P-384 or RSA) the issuer signs with.
        public let key: URL
        /// Allowed `alg` values; never `none`, never an HMAC.
        public let algorithms: [String]
        /// The certificate (PEM) the issuer's TLS client presents: its tokens count only on a
        /// connection whose client certificate has this one's subject and issuer, so a token
        /// that leaks cannot be used by another party the listener trusts.
        public let clientCertificate: URL

        public init(issuer: String, audience: String, key: URL, algorithms: [String], clientCertificate: URL) {
            self.issuer = issuer
            self.audience = audience
            self.key = key
            self.algorithms = algorithms
            self.clientCertificate = clientCertificate
        }
    }

    public struct Identity: Sendable {
        public let key: URL
        public let certificate: URL
        public let chain: URL?
        public let tls: KeyMaterial
        public let smime: KeyMaterial

        /// Every distinct private key file, for the file checks.
        public var keyFiles: [URL] { [key, tls.key, smime.key].reduce(into: []) { if !$0.contains($1) { $0.append($1) } } }
    }

    /// A private key with its certificate and the intermediates that go with it.
    public struct KeyMaterial: Sendable, Equatable {
        public let key: URL
        public let certificate: URL
        public let chain: URL?
    }

    /// Retry policy and transport limits for `koerier deliver`.
    public struct DeliverySettings: Sendable {
        public var maxAttempts = 12
        public var maxAgeSeconds = 3 * 86_400
        public var firstRetrySeconds = 30
        public var maxRetrySeconds = 3_600
        public var leaseSeconds = 120
        public var connectTimeoutSeconds = 10
        public var totalTimeoutSeconds = 60
        /// A partner that gave no usable answer this many times in a row gets its lane's
        /// circuit opened: probed one letter at a time, first after `firstRetrySeconds`, the
        /// wait doubling up to `circuitPauseSeconds`.
        public var circuitFailures = 5
        public var circuitPauseSeconds = 300
        /// The envelope sender (MAIL FROM) of S/MIME mail.
        public var mailFrom = "koerier@localhost"
        /// This centre's own numeric EDI address (Zorgmail address book): the UNB sender of
        /// every MEDVRI interchange. Needed once a directory entry uses `format: medvri`.
        public var ediAddress: String?
        public init() {}
    }

    /// `--config` wins, then `$KOERIER_CONFIG`, then `Config/koerier.yaml`.
    public static func location(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty { return fromEnvironment }
        return defaultPath
    }

    public static func load(path: String) throws -> KoerierConfiguration {
        let file = URL(fileURLWithPath: path).standardizedFileURL
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw ConfigError(
                file: path, line: nil,
                message: "cannot read the configuration file (use --config FILE or set \(environmentVariable))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, line: nil, message: "the configuration file is not UTF-8 text")
        }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ConfigError(file: path, line: nil, message: "the configuration file is empty")
            }
            root = node
        } catch let error as YamlError {
            throw ConfigError(file: path, line: yamlLine(of: error), message: "not valid YAML: \(yamlProblem(of: error))")
        }
        return try KoerierConfiguration(root: root, file: file, displayPath: path)
    }

    private init(root: Node, file: URL, displayPath: String) throws {
        let fields = try YAMLFields(root, file: displayPath, path: "")
        try fields.rejectUnknown(allowed: [
            "schemas", "samples", "limits", "trust", "store", "recipients", "identity", "delivery", "serve", "test_mode",
        ])
        testMode = try fields.bool("test_mode") ?? false
        let base = file.deletingLastPathComponent()
        func resolve(_ relative: String) -> URL {
            URL(fileURLWithPath: relative, relativeTo: base).standardizedFileURL
        }
        self.file = file
        schemaDirectory = resolve(try fields.string("schemas") ?? "../Schemas")
        samplesDirectory = resolve(try fields.string("samples") ?? "../Samples")
        let limits = try fields.section("limits")
        try limits?.rejectUnknown(allowed: ["max_message_bytes", "max_depth"])
        maxMessageBytes = try limits?.integer("max_message_bytes", range: 1024...(256 * 1024 * 1024)) ?? 4 * 1024 * 1024
        maxXMLDepth = try limits?.integer("max_depth", range: 16...256) ?? 48
        let trust = try fields.section("trust")
        try trust?.rejectUnknown(allowed: ["anchors", "crl", "consent_signers"])
        consentSigners = try trust?.string("consent_signers").map(resolve)
        trustAnchors = try trust?.string("anchors").map(resolve)
        crl = try trust?.string("crl").map(resolve)
        if crl != nil && trustAnchors == nil {
            throw ConfigError(file: displayPath, line: nil, message: "'trust.crl' needs 'trust.anchors'")
        }
        let store = try fields.section("store")
        try store?.rejectUnknown(allowed: [
            "path", "key_file", "audit_key_file", "urgent_alarm_minutes", "min_free_mb", "backend", "url", "pool_size",
            "statement_timeout_ms", "lock_timeout_ms", "instance",
        ])
        switch try store?.string("backend") ?? "sqlite" {
        case "sqlite":
            if try store?.string("url") != nil {
                throw ConfigError(
                    file: displayPath, line: store?.line(of: "url"),
                    message: "'store.url' is for 'backend: postgres'; the SQLite store uses 'store.path'")
            }
            storeBackend = .sqlite
        case "postgres":
            guard let store, let url = try store.string("url") else {
                throw ConfigError(
                    file: displayPath, line: store?.line(of: "backend"),
                    message: "'store.backend: postgres' needs 'store.url' (postgres://USER@HOST/DATABASE)")
            }
            storeBackend = .postgres(
                url: url, poolSize: try store.integer("pool_size", range: 2...200) ?? 16,
                statementTimeoutMilliseconds: try store.integer("statement_timeout_ms", range: 100...600_000) ?? 30_000,
                lockTimeoutMilliseconds: try store.integer("lock_timeout_ms", range: 100...600_000) ?? 10_000)
        case let other:
            throw ConfigError(
                file: displayPath, line: store?.line(of: "backend"), message: "'store.backend' is '\(other)'; expected sqlite or postgres")
        }
        instanceName = try store?.string("instance") ?? ProcessInfo.processInfo.hostName
        auditKeyFile = try store?.string("audit_key_file").map(resolve)
        storePath = resolve(try store?.string("path") ?? "var/koerier.sqlite")
        payloadKeyFile = resolve(try store?.string("key_file") ?? "var/payload.keys")
        urgentAlarmSeconds = 60 * (try store?.integer("urgent_alarm_minutes", range: 1...1440) ?? 15)
        storeMinimumFreeBytes = Int64(try store?.integer("min_free_mb", range: 0...(1 << 20)) ?? 32) << 20
        recipientsFile = resolve(try fields.string("recipients") ?? "recipients.yaml")
        if let identity = try fields.section("identity") {
            try identity.rejectUnknown(allowed: ["key", "certificate", "chain", "tls", "smime"])
            let signing = KeyMaterial(
                key: resolve(try identity.requiredString("key")),
                certificate: resolve(try identity.requiredString("certificate")),
                chain: try identity.string("chain").map(resolve))
            func purpose(_ name: String) throws -> KeyMaterial {
                guard let section = try identity.section(name) else { return signing }
                try section.rejectUnknown(allowed: ["key", "certificate", "chain"])
                return KeyMaterial(
                    key: resolve(try section.requiredString("key")), certificate: resolve(try section.requiredString("certificate")),
                    chain: try section.string("chain").map(resolve))
            }
            self.identity = Identity(
                key: signing.key, certificate: signing.certificate, chain: signing.chain, tls: try purpose("tls"),
                smime: try purpose("smime"))
        } else {
            identity = nil
        }
        var delivery = DeliverySettings()
        if let section = try fields.section("delivery") {
            try section.rejectUnknown(allowed: [
                "max_attempts", "max_age_hours", "first_retry_seconds", "max_retry_seconds",
                "lease_seconds", "connect_timeout_seconds", "total_timeout_seconds",
                "circuit_failures", "circuit_pause_seconds", "mail_from", "edi_address",
            ])
            delivery.maxAttempts = try section.integer("max_attempts", range: 1...1000) ?? delivery.maxAttempts
            delivery.maxAgeSeconds = 3600 * (try section.integer("max_age_hours", range: 1...(24 * 90)) ?? delivery.maxAgeSeconds / 3600)
            delivery.firstRetrySeconds = try section.integer("first_retry_seconds", range: 1...86_400) ?? delivery.firstRetrySeconds
            delivery.maxRetrySeconds = try section.integer("max_retry_seconds", range: 1...86_400) ?? delivery.maxRetrySeconds
            delivery.leaseSeconds = try section.integer("lease_seconds", range: 10...3600) ?? delivery.leaseSeconds
            delivery.connectTimeoutSeconds =
                try section.integer("connect_timeout_seconds", range: 1...300) ?? delivery.connectTimeoutSeconds
            delivery.totalTimeoutSeconds = try section.integer("total_timeout_seconds", range: 1...3600) ?? delivery.totalTimeoutSeconds
            delivery.circuitFailures = try section.integer("circuit_failures", range: 1...1000) ?? delivery.circuitFailures
            delivery.circuitPauseSeconds = try section.integer("circuit_pause_seconds", range: 1...86_400) ?? delivery.circuitPauseSeconds
            delivery.mailFrom = try section.string("mail_from") ?? delivery.mailFrom
            if let address = try section.string("edi_address") {
                guard (1...35).contains(address.count), address.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                    throw ConfigError(
                        file: displayPath, line: section.line(of: "edi_address"),
                        message: "'delivery.edi_address' must be a numeric EDI address (1-35 digits), as in the Zorgmail address book")
                }
                delivery.ediAddress = address
            }
        }
        self.delivery = delivery
        var serve = ServeSettings(inbox: resolve("var/inbox"), controlSocket: resolve("var/control.sock"))
        if let section = try fields.section("serve") {
            try section.rejectUnknown(allowed: [
                "listen", "admin", "inbox", "log_format", "idle_timeout_seconds", "body_timeout_seconds", "max_connections",
                "drop_folder_trusted", "control_socket", "control_group", "fhir",
            ])
            if let fhir = try section.section("fhir") { serve.fhir = try Self.fhirIntake(fhir, resolve: resolve) }
            if let socket = try section.string("control_socket") { serve.controlSocket = resolve(socket) }
            serve.controlGroup = try section.string("control_group")
            serve.dropFolderTrusted = try section.bool("drop_folder_trusted") ?? false
            serve.idleTimeoutSeconds = try section.integer("idle_timeout_seconds", range: 1...3600) ?? serve.idleTimeoutSeconds
            serve.bodyTimeoutSeconds = try section.integer("body_timeout_seconds", range: 1...3600) ?? serve.bodyTimeoutSeconds
            serve.maxConnections = try section.integer("max_connections", range: 1...100_000) ?? serve.maxConnections
            func endpoint(_ key: String) throws -> (String, Int)? {
                guard let text = try section.string(key) else { return nil }
                let parts = text.split(separator: ":")
                guard parts.count == 2, let port = Int(parts[1]), (0...65535).contains(port) else {
                    throw ConfigError(
                        file: displayPath, line: section.line(of: key), message: "'serve.\(key)' must be HOST:PORT, not '\(text)'")
                }
                return (String(parts[0]), port)
            }
            if let (host, port) = try endpoint("listen") { (serve.listenHost, serve.listenPort) = (host, port) }
            if let (host, port) = try endpoint("admin") {
                guard Self.isLoopback(host) else {
                    throw ConfigError(
                        file: displayPath, line: section.line(of: "admin"),
                        message: "'serve.admin' must be a loopback address: the admin port has no authentication")
                }
                (serve.adminHost, serve.adminPort) = (host, port)
            }
            if let inbox = try section.string("inbox") { serve.inbox = resolve(inbox) }
            if let format = try section.string("log_format") {
                guard format == "text" || format == "json" else {
                    throw ConfigError(
                        file: displayPath, line: section.line(of: "log_format"), message: "'serve.log_format' must be text or json")
                }
                serve.logFormat = format
            }
        }
        self.serve = serve
    }

    static let jwtAlgorithms: Set<String> = ["ES256", "ES384", "RS256", "RS384", "RS512"]

    private static func fhirIntake(_ section: YAMLFields, resolve: (String) -> URL) throws -> FHIRIntakeSettings {
        try section.rejectUnknown(allowed: ["base_url", "issuers", "leeway_seconds"])
        let base = try section.requiredString("base_url")
        guard let url = URL(string: base), url.scheme == "https", url.host != nil else {
            throw ConfigError(
                file: section.file, line: section.line(of: "base_url"), message: "'serve.fhir.base_url' must be an https:// URL")
        }
        let issuers = try (section.list("issuers") ?? []).map { entry -> JWTIssuer in
            try entry.rejectUnknown(allowed: ["issuer", "audience", "key", "algorithms", "client_certificate"])
            let algorithms =
                try entry.string("algorithms").map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
                ?? ["ES256"]
            if let wrong = algorithms.first(where: { !jwtAlgorithms.contains($0) }) {
                throw ConfigError(
                    file: entry.file, line: entry.line(of: "algorithms"),
                    message:
                        "JWT algorithm '\(wrong)' is not allowed; one of \(jwtAlgorithms.sorted().joined(separator: ", ")) (never none or HMAC)"
                )
            }
            return JWTIssuer(
                issuer: try entry.requiredString("issuer"), audience: try entry.requiredString("audience"),
                key: resolve(try entry.requiredString("key")), algorithms: algorithms,
                clientCertificate: resolve(try entry.requiredString("client_certificate")))
        }
        if let twice = Dictionary(grouping: issuers, by: \.issuer).first(where: { $0.value.count > 1 })?.key {
            throw ConfigError(file: section.file, line: section.line(of: "issuers"), message: "JWT issuer '\(twice)' appears twice")
        }
        guard !issuers.isEmpty else {
            throw ConfigError(
                file: section.file, line: section.line(of: "issuers"), message: "'serve.fhir.issuers' needs at least one issuer")
        }
        return FHIRIntakeSettings(
            baseURL: base.hasSuffix("/") ? String(base.dropLast()) : base, issuers: issuers,
            leewaySeconds: try section.integer("leeway_seconds", range: 0...300) ?? 30)
    }

    private static func yamlLine(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return nil
        }
    }

    private static func yamlProblem(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): return problem
        default: return "\(error)"
        }
    }

    /// localhost, ::1, or an IPv4 literal in 127.0.0.0/8 (all of it is the loopback interface).
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false).map { UInt8($0) }
        return octets.count == 4 && !octets.contains(nil) && octets[0] == 127
    }
}
