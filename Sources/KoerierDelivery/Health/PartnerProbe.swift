import CCurl
import Foundation
import KoerierSecurity

/// A TLS handshake with a partner as a delivery would make it (the same libcurl options:
/// verification on, TLS 1.2 with ECDHE and AEAD or 1.3, the partner's own anchors, our
/// client certificate for HTTPS, STARTTLS for SMTP), stopping once connected: nothing is sent.
public enum PartnerProbe {
    public struct Result: Sendable, Equatable {
        public let recipientID: String
        /// host:port reached (or tried).
        public let endpoint: String
        /// nil when the handshake completed; libcurl's reason otherwise.
        public let failure: String?
        /// The end of the partner's server certificate's validity, when the handshake showed it.
        public let serverCertificateExpiresAt: Date?
    }

    /// nil for a partner reached without TLS (an EDI folder).
    public static func probe(_ recipient: Recipient, credentials: ClientCredentials, timeouts: TransportTimeouts) -> Result? {
        let endpoint: String
        let curl: CurlHandle
        do {
            switch recipient.transport {
            case .https(let target):
                endpoint = "\(target.url.host ?? "?"):\(target.url.port ?? 443)"
                curl = try HTTPSTransport.connection(to: target, credentials: credentials, timeouts: timeouts)
            case .smtp(let target):
                endpoint = "\(target.relayHost):\(target.relayPort)"
                curl = try SMTPTransport.connection(to: target, timeouts: timeouts)
            case .folder:
                return nil
            }
            // Connect (and for SMTP greet and upgrade with STARTTLS), then stop.
            try curl.set(CURLOPT_CONNECT_ONLY, 1)
            try curl.set(CURLOPT_CERTINFO, 1)
        } catch {
            return Result(recipientID: recipient.id, endpoint: "?", failure: "\(error)", serverCertificateExpiresAt: nil)
        }
        let outcome = curl.perform()
        guard outcome.code == CURLE_OK else {
            return Result(recipientID: recipient.id, endpoint: endpoint, failure: outcome.message, serverCertificateExpiresAt: nil)
        }
        return Result(recipientID: recipient.id, endpoint: endpoint, failure: nil, serverCertificateExpiresAt: serverExpiry(curl))
    }

    /// The leaf's end of validity, read from the certificate itself: libcurl's certificate
    /// information carries the leaf in PEM ("Cert:"), which OpenSSL decodes (no printed
    /// date to parse back).
    private static func serverExpiry(_ curl: CurlHandle) -> Date? {
        var info: UnsafeMutablePointer<curl_certinfo>?
        guard koerier_curl_get_certinfo(curl.handle, &info) == CURLE_OK, let info, info.pointee.num_of_certs > 0,
            var entry = info.pointee.certinfo?[0]
        else { return nil }
        while true {
            if let data = entry.pointee.data {
                let line = String(cString: data)
                if line.hasPrefix("Cert:") { return Certificate.loadPEM(Data(line.dropFirst("Cert:".count).utf8)).first?.expiresAt }
            }
            guard let next = entry.pointee.next else { return nil }
            entry = next
        }
    }
}
