import Foundation

/// How a transfer ended, before any channel reads meaning into it.
public enum TransportOutcome: Sendable {
    /// The partner answered: an HTTP status with its body, or the SMTP reply code.
    /// `retryAfter` is HTTP's Retry-After, in seconds from now, when the partner sent one;
    /// `location` its Location header (a FHIR server names what it created).
    case answered(status: Int, body: Data, retryAfter: TimeInterval?, location: String? = nil)
    /// No answer: refused or reset connection, timeout, TLS failure.
    case noAnswer(reason: String)
}

/// This gateway's TLS client credentials: its certificate followed by its intermediates
/// (one PEM file), and its private key.
public struct ClientCredentials: Sendable {
    public let certificateChain: URL
    public let key: URL

    public init(certificateChain: URL, key: URL) {
        self.certificateChain = certificateChain
        self.key = key
    }
}

public struct TransportTimeouts: Sendable {
    public let connect: Int
    public let total: Int
    public init(connect: Int, total: Int) {
        self.connect = connect
        self.total = total
    }
}

/// Configured libcurl handles kept per destination. A handle keeps its connection (and
/// TLS session) open between transfers, so a partner's letters after the first go out
/// without a new TCP or TLS handshake, and certificates and keys are read once per
/// connection rather than per letter. A handle is used by one transfer at a time.
final class CurlHandlePool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [String: [CurlHandle]] = [:]
    /// Handles kept idle per destination: at least a lane's concurrency.
    private let keep: Int

    init(keep: Int = 32) { self.keep = keep }

    /// Runs `transfer` with an idle handle for `key`, or one made by `make`, and keeps it after.
    func with<T>(_ key: String, make: () throws -> CurlHandle, transfer: (CurlHandle) throws -> T) throws -> T {
        let reused = lock.withLock { idle[key]?.popLast() }
        let handle = try reused ?? make()
        defer {
            lock.withLock {
                if idle[key, default: []].count < keep { idle[key, default: []].append(handle) }
            }
        }
        return try transfer(handle)
    }
}
