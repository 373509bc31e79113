import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL

/// The TLS side of a listener: its own certificate chain and key, and the anchors a
/// client's certificate must chain to (mutual TLS is always required).
public struct ListenerTLS: Sendable {
    public let certificateChain: URL
    public let key: URL
    public let clientAnchors: URL
    /// Checks a client's chain (DER, leaf first) in place of BoringSSL's own check: the
    /// gateway's trust store with its CRLs, so a revoked client fails the handshake. Nil:
    /// BoringSSL checks against `clientAnchors` alone.
    public let clientCheck: (@Sendable ([Data]) -> Bool)?
    /// The certificate and key a reload put in place of `certificateChain` and `key`; each new
    /// handshake takes the current ones (connections already open keep theirs).
    let replacement: ListenerCredentials?

    public init(
        certificateChain: URL, key: URL, clientAnchors: URL, clientCheck: (@Sendable ([Data]) -> Bool)? = nil,
        replacement: ListenerCredentials? = nil
    ) {
        self.certificateChain = certificateChain
        self.key = key
        self.clientAnchors = clientAnchors
        self.clientCheck = clientCheck
        self.replacement = replacement
    }

    func channelConfiguration() throws -> TLSChannelConfiguration {
        guard let clientCheck else { return TLSChannelConfiguration(tlsConfiguration: try configuration()) }
        return TLSChannelConfiguration(
            tlsConfiguration: try configuration(),
            customVerificationCallback: { certificates, promise in
                let chain = certificates.compactMap { try? Data($0.toDERBytes()) }
                promise.succeed(chain.count == certificates.count && clientCheck(chain) ? .certificateVerified : .failed)
            })
    }

    func configuration() throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(certificateChain.path).map { NIOSSLCertificateSource.certificate($0) }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key.path, format: .pem)))
        configuration.minimumTLSVersion = .tlsv12
        // NCSC TLS guidelines, "good": TLS 1.3 (all its suites are AEAD with ephemeral keys),
        // and TLS 1.2 only with ECDHE and AES-GCM or ChaCha20-Poly1305. No static RSA, no CBC.
        configuration.cipherSuiteValues = ListenerTLS.tls12Suites
        // Clients are verified against our anchors; they have no host name to check.
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .file(clientAnchors.path)
        if let replacement {
            configuration.sslContextCallback = { _, promise in promise.succeed(replacement.override) }
        }
        return configuration
    }
}

/// A listener's own certificate chain and key as last (re)loaded. Until the first
/// replacement, handshakes use the listener's configuration unchanged.
public final class ListenerCredentials: @unchecked Sendable {
    private let lock = NSLock()
    private var current = NIOSSLContextConfigurationOverride.noChanges

    public init() {}

    /// Reads both files; a file that does not load changes nothing and throws.
    public func replace(certificateChain: URL, key: URL) throws {
        var loaded = NIOSSLContextConfigurationOverride()
        loaded.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateChain.path).map { .certificate($0) }
        loaded.privateKey = .privateKey(try NIOSSLPrivateKey(file: key.path, format: .pem))
        lock.withLock { current = loaded }
    }

    var override: NIOSSLContextConfigurationOverride { lock.withLock { current } }
}

extension ListenerTLS {
    static let tls12Suites: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ]
}

/// How long a client may take and how many may be connected at once: a client that opens
/// connections and sends nothing, or a byte at a time (slowloris), is dropped.
public struct ListenerLimits: Sendable {
    /// From connection (TLS handshake included) or the previous answer to a complete request head.
    public var idleSeconds: Int
    /// From the request head to the last byte of its body.
    public var bodySeconds: Int
    /// Connections at once; further clients wait in the accept backlog.
    public var maxConnections: Int

    public init(idleSeconds: Int = 30, bodySeconds: Int = 60, maxConnections: Int = 256) {
        self.idleSeconds = idleSeconds
        self.bodySeconds = bodySeconds
        self.maxConnections = maxConnections
    }

    public static let standard = ListenerLimits()
}

/// What a listener hands its handler: the body and the client's verified certificate (DER).
public struct InboundRequest: Sendable {
    public let body: Data
    public let clientCertificateDER: Data?
    /// The Authorization header (a FHIR client's bearer JWT), never logged.
    public let authorization: String?
    public let contentType: String?

    public init(body: Data, clientCertificateDER: Data?, authorization: String? = nil, contentType: String? = nil) {
        self.body = body
        self.clientCertificateDER = clientCertificateDER
        self.authorization = authorization
        self.contentType = contentType
    }
}

public struct ListenerAnswer: Sendable {
    public let status: Int
    public let body: Data
    /// Seconds the client should wait before trying again (with 429 or 503).
    public let retryAfter: Int?
    /// Set by answers that are not Koerier XML or plain text (FHIR JSON).
    public let contentType: String?
    public let location: String?
    /// `WWW-Authenticate` for a refused bearer token (RFC 6750).
    public let authenticate: String?

    public init(
        status: Int, body: Data, retryAfter: Int? = nil, contentType: String? = nil, location: String? = nil, authenticate: String? = nil
    ) {
        self.status = status
        self.body = body
        self.retryAfter = retryAfter
        self.contentType = contentType
        self.location = location
        self.authenticate = authenticate
    }
}

/// Carries the connection, so a handler can read the client's certificate.
public struct PeerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// `POST /v1/messages` over HTTPS with mutual TLS (Hummingbird); the body, bounded in size,
/// goes to `handler`, whose answer is the response.
public struct MessageListener: Sendable {
    public let host: String
    public let port: Int
    public let tls: ListenerTLS
    public let maxBodyBytes: Int
    public let limits: ListenerLimits
    /// Hummingbird's own log level (connection errors, shutdown).
    public let logLevel: Logger.Level
    let handler: @Sendable (InboundRequest) async -> ListenerAnswer
    /// `POST /fhir/Bundle` (ZorgDomein-style FHIR intake); nil: the route does not exist.
    let fhirHandler: (@Sendable (InboundRequest) async -> ListenerAnswer)?

    public init(
        host: String, port: Int, tls: ListenerTLS, maxBodyBytes: Int, limits: ListenerLimits = .standard,
        logLevel: Logger.Level = .warning, fhirHandler: (@Sendable (InboundRequest) async -> ListenerAnswer)? = nil,
        handler: @escaping @Sendable (InboundRequest) async -> ListenerAnswer
    ) {
        self.fhirHandler = fhirHandler
        self.limits = limits
        self.logLevel = logLevel
        self.host = host
        self.port = port
        self.tls = tls
        self.maxBodyBytes = maxBodyBytes
        self.handler = handler
    }

    /// Runs until the task is cancelled; `onRunning` learns the bound port (useful with port 0).
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await application(onRunning: onRunning).runService(gracefulShutdownSignals: [])
    }

    /// The listener as a service for a service group (`koerier serve`): it stops accepting on
    /// graceful shutdown and finishes the requests in flight.
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let router = Router(context: PeerRequestContext.self)
        let maxBodyBytes = maxBodyBytes
        let bodySeconds = limits.bodySeconds
        let handler = handler
        router.post("/v1/messages") { request, context -> Response in
            await Self.serve(request, context, maxBodyBytes: maxBodyBytes, bodySeconds: bodySeconds, handler: handler)
        }
        if let fhirHandler {
            router.post("/fhir/Bundle") { request, context -> Response in
                await Self.serve(request, context, maxBodyBytes: maxBodyBytes, bodySeconds: bodySeconds, handler: fhirHandler)
            }
        }
        var logger = Logger(label: "koerier.listener")
        logger.logLevel = logLevel
        return Application(
            router: router,
            server: try .tls(
                .http1(configuration: .init(idleTimeout: .seconds(Int64(limits.idleSeconds)))),
                configuration: try tls.channelConfiguration()),
            configuration: .init(
                address: .hostname(host, port: port), serverName: "koerier",
                availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections, logger: logger)),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) }, logger: logger)
    }

    /// One request: the body within its limits, the client's certificate and headers to the
    /// handler, and its answer as a response.
    static func serve(
        _ request: Request, _ context: PeerRequestContext, maxBodyBytes: Int, bodySeconds: Int,
        handler: @Sendable (InboundRequest) async -> ListenerAnswer
    ) async -> Response {
        let body: ByteBuffer
        switch await Self.collect(request.body, upTo: maxBodyBytes, within: bodySeconds) {
        case .complete(let bytes): body = bytes
        case .tooLarge: return Self.text(413, "the message is larger than \(maxBodyBytes) bytes")
        case .tooSlow:
            var slow = Self.text(408, "the message body did not arrive within \(bodySeconds) s")
            slow.headers[.connection] = "close"
            return slow
        }
        let peer = try? await context.channel.nioSSL_peerCertificate().get()
        let der = try? peer.map { Data(try $0.toDERBytes()) }
        let answer = await handler(
            InboundRequest(
                body: Data(buffer: body), clientCertificateDER: der ?? nil, authorization: request.headers[.authorization],
                contentType: request.headers[.contentType]))
        var headers = HTTPFields()
        headers[.contentType] =
            answer.contentType
            ?? (answer.status < 300 || answer.body.starts(with: Data("<?xml".utf8))
                ? "application/xml; charset=utf-8" : "text/plain; charset=utf-8")
        if let seconds = answer.retryAfter { headers[.retryAfter] = "\(seconds)" }
        if let location = answer.location { headers[.location] = location }
        if let authenticate = answer.authenticate { headers[.wwwAuthenticate] = authenticate }
        return Response(status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    enum Collected {
        case complete(ByteBuffer)
        case tooLarge
        case tooSlow
    }

    /// The body, unless it is larger than `limit` or still incomplete after `seconds`.
    static func collect(_ body: RequestBody, upTo limit: Int, within seconds: Int) async -> Collected {
        await withTaskGroup(of: Collected?.self) { group in
            group.addTask {
                do { return .complete(try await body.collect(upTo: limit)) } catch { return .tooLarge }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return Task.isCancelled ? nil : .tooSlow
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .tooSlow
        }
    }

    static func text(_ status: Int, _ message: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: message + "\n")))
    }
}
