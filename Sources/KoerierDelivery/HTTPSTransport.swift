import CCurl
import Foundation

/// POSTs a signed message over HTTPS with mutual TLS: this gateway's client certificate,
/// the server verified against the recipient's own anchors and name, TLS 1.2 or later.
public struct HTTPSTransport: Sendable {
    let credentials: ClientCredentials
    let timeouts: TransportTimeouts
    /// Largest response body read (a receipt is a few KB).
    let maxResponseBytes = 1 << 20

    public init(credentials: ClientCredentials, timeouts: TransportTimeouts) {
        self.credentials = credentials
        self.timeouts = timeouts
    }

    public func post(_ bytes: Data, to target: HTTPSTarget) -> TransportOutcome {
        do {
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
            // No "Expect: 100-continue" round trip: the body is small and wanted at once.
            try curl.set(CURLOPT_HTTPHEADER, list: ["Content-Type: application/xml; charset=utf-8", "Expect:"])
            try curl.set(CURLOPT_POST, 1)
            let response = ResponseBuffer(limit: maxResponseBytes)
            try curl.set(CURLOPT_WRITEFUNCTION, callback: ResponseBuffer.write)
            try curl.set(CURLOPT_WRITEDATA, pointer: Unmanaged.passUnretained(response).toOpaque())
            let result = try withExtendedLifetime(response) {
                try bytes.withUnsafeBytes { body -> (code: CURLcode, message: String) in
                    try curl.set(CURLOPT_POSTFIELDSIZE_LARGE, size: body.count)
                    try curl.set(CURLOPT_POSTFIELDS, pointer: UnsafeMutableRawPointer(mutating: body.baseAddress))
                    return curl.perform()
                }
            }
            guard result.code == CURLE_OK else { return .failed(reason: "HTTPS: \(result.message)") }
            let status = curl.responseCode
            switch status {
            case 200..<300: return .accepted(status: status, body: response.data)
            case 400..<500: return .refused(status: status, reason: "HTTP \(status): \(Self.summary(response.data))")
            default: return .failed(reason: "HTTP \(status): \(Self.summary(response.data))")
            }
        } catch {
            return .failed(reason: "\(error)")
        }
    }

    /// The first line of a response body, short: for the record's last error.
    static func summary(_ body: Data) -> String {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return line.isEmpty ? "(no body)" : line
    }
}
