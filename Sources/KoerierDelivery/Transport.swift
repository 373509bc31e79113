import Foundation

/// How a transfer ended, as the retry policy needs to know it.
public enum TransportOutcome: Sendable {
    /// The recipient took the message (HTTP 2xx with its body, or SMTP 250).
    case accepted(status: Int, body: Data)
    /// The recipient refused it for good (HTTP 4xx, SMTP 5xx): retrying will not help.
    case refused(status: Int, reason: String)
    /// Anything worth another try later: 5xx, SMTP 4xx, timeouts, refused connections, TLS trouble.
    case failed(reason: String)
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
