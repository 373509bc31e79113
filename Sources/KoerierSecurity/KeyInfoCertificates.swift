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

/// Certificates parsed from DER, remembered by their bytes: a TLS client presents the same
/// certificate with every request on its connections, and OpenSSL 3 spends most of a
/// parse finding a decoder for the public key. As above, only the parse is skipped.
final class DERCertificates: @unchecked Sendable {
    static let shared = DERCertificates(capacity: 256)

    private let lock = NSLock()
    private var parsed: [Data: Certificate] = [:]
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func certificate(der: Data) -> Certificate? {
        if let known = lock.withLock({ parsed[der] }) { return known }
        guard let certificate = Certificate(der: der) else { return nil }
        lock.withLock {
            if parsed.count >= capacity { parsed.removeAll(keepingCapacity: true) }
            parsed[der] = certificate
        }
        return certificate
    }
}

extension Certificate {
    /// The certificate in `der`, parsed once per distinct byte string (see `DERCertificates`).
    public static func parsedOnce(der: Data) -> Certificate? { DERCertificates.shared.certificate(der: der) }
}
