import Foundation

/// Certificates read from KeyInfo, remembered by their base64 text: a partner sends the
/// same two certificates with every message, and decoding and parsing them was most of
/// what a verification cost. Only parsing is skipped; every check (validity at the
/// message's moment, key policy, chain) still runs on the certificate each time.
final class KeyInfoCertificates: @unchecked Sendable {
    static let shared = KeyInfoCertificates(capacity: 1024)

    private let lock = NSLock()
    private var parsed: [String: Certificate] = [:]
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// The certificate in an X509Certificate element's text, or nil when it is not DER.
    func certificate(fromBase64 text: String) -> Certificate? {
        if let known = lock.withLock({ parsed[text] }) { return known }
        // Base64 in XML may wrap: drop space, tab, CR and LF byte by byte (a Character
        // filter looked up Unicode properties for every byte of every certificate).
        guard let der = Data(base64Encoded: SignatureStructure.withoutWhiteSpace(text)), let certificate = Certificate(der: der) else {
            return nil
        }
        lock.withLock {
            if parsed.count >= capacity { parsed.removeAll(keepingCapacity: true) }
            parsed[text] = certificate
        }
        return certificate
    }
}
