import CCurl
import Foundation

/// POSTs bytes over HTTPS with mutual TLS: this gateway's client certificate, the server
/// verified against the recipient's own anchors and name, TLS 1.2 or later. Connections
/// are kept per destination (`CurlHandlePool`); what an answer means is the channel's call.
public final class HTTPSTransport: Sendable {
    let credentials: ClientCredentials
    let timeouts: TransportTimeouts
    /// Largest response body read (a receipt is a few KB).
    let maxResponseBytes = 1 << 20
    private let handles = CurlHandlePool()
    /// False: a new TCP and TLS connection for every transfer (for comparison only).
    let reuseConnections: Bool

    public init(credentials: ClientCredentials, timeouts: TransportTimeouts, reuseConnections: Bool = true) {
        self.credentials = credentials
        self.timeouts = timeouts
        self.reuseConnections = reuseConnections
    }

    public static let xmlHeaders = ["Content-Type: application/xml; charset=utf-8"]

    public func post(_ bytes: Data, to target: HTTPSTarget, headers: [String] = HTTPSTransport.xmlHeaders) -> TransportOutcome {
        do {
            let key = "\(target.url.absoluteString)|\(target.address ?? "")|\(target.serverAnchors.path)|\(headers.joined(separator: "|"))"
            return try handles.with(
                key, make: { try handle(for: target, headers: headers) },
                transfer: { curl in
                    let response = ResponseBuffer(limit: maxResponseBytes)
                    try curl.set(CURLOPT_WRITEDATA, pointer: Unmanaged.passUnretained(response).toOpaque())
                    let result = try withExtendedLifetime(response) {
                        try bytes.withUnsafeBytes { body -> (code: CURLcode, message: String) in
                            try curl.set(CURLOPT_POSTFIELDSIZE_LARGE, size: body.count)
                            try curl.set(CURLOPT_POSTFIELDS, pointer: UnsafeMutableRawPointer(mutating: body.baseAddress))
                            defer { try? curl.set(CURLOPT_POSTFIELDS, pointer: nil) }
                            return curl.perform()
                        }
                    }
                    guard result.code == CURLE_OK else { return .noAnswer(reason: "HTTPS: \(result.message)") }
                    return .answered(
                        status: curl.responseCode, body: response.data, retryAfter: curl.retryAfter, location: curl.header("Location"))
                })
        } catch {
            return .noAnswer(reason: "\(error)")
        }
    }

    /// A handle that reaches the destination as every transfer does: its anchors and name,
    /// this gateway's client certificate, the configured address (also for `PartnerProbe`).
    static func connection(to target: HTTPSTarget, credentials: ClientCredentials, timeouts: TransportTimeouts) throws -> CurlHandle {
        let curl = try CurlHandle(
            url: target.url.absoluteString, protocols: "https", anchors: target.serverAnchors,
            connectTimeout: timeouts.connect, totalTimeout: timeouts.total)
        try curl.set(CURLOPT_SSLCERT, credentials.certificateChain.path)
        try curl.set(CURLOPT_SSLCERTTYPE, "PEM")
        try curl.set(CURLOPT_SSLKEY, credentials.key.path)
        if let address = target.address, let host = target.url.host {
            let port = target.url.port ?? 443
            try curl.set(CURLOPT_CONNECT_TO, list: ["\(host):\(port):\(address):\(port)"])
        }
        return curl
    }

    /// A handle with everything that stays the same for this destination.
    private func handle(for target: HTTPSTarget, headers: [String]) throws -> CurlHandle {
        let curl = try Self.connection(to: target, credentials: credentials, timeouts: timeouts)
        // No "Expect: 100-continue" round trip: the body is small and wanted at once.
        try curl.set(CURLOPT_HTTPHEADER, list: headers + ["Expect:"])
        try curl.set(CURLOPT_POST, 1)
        try curl.set(CURLOPT_WRITEFUNCTION, callback: ResponseBuffer.write)
        if !reuseConnections {
            try curl.set(CURLOPT_FRESH_CONNECT, 1)
            try curl.set(CURLOPT_FORBID_REUSE, 1)
        }
        return curl
    }

    /// The first line of a response body, short: for the record's last error.
    static func summary(_ body: Data) -> String {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return line.isEmpty ? "(no body)" : line
    }
}
