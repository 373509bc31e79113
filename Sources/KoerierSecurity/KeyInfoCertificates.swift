import Foundation

/// Certificates read from KeyInfo, remembered by their base64 text: a partner sends the
/// same two certificates with every message, and decoding and parsing them was most of
/// what a verification cost. Only parsing is skipped; every check (validity at the
/// message's moment, key policy, chain) still runs on the certificate each time.
enum KeyInfoCertificates {
    static let shared = ParsedCertificates<String>(capacity: 1024)
}

extension ParsedCertificates<String> {
    /// The certificate in an X509Certificate element's text, or nil when it is not DER.
    func certificate(fromBase64 text: String) -> Certificate? {
        certificate(for: text) {
            // Base64 in XML may wrap: drop space, tab, CR and LF byte by byte (a Character
            // filter looked up Unicode properties for every byte of every certificate).
            Data(base64Encoded: SignatureStructure.withoutWhiteSpace(text)).flatMap { Certificate(der: $0) }
        }
    }
}

/// Parsed certificates remembered by what they were parsed from, up to `capacity`.
final class ParsedCertificates<Key: Hashable & Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var parsed: [Key: Certificate] = [:]
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func certificate(for key: Key, parse: () -> Certificate?) -> Certificate? {
        if let known = lock.withLock({ parsed[key] }) { return known }
        guard let certificate = parse() else { return nil }
        lock.withLock {
            if parsed.count >= capacity { parsed.removeAll(keepingCapacity: true) }
            parsed[key] = certificate
        }
        return certificate
    }
}

extension Certificate {
    /// The certificate in `der`, parsed once per distinct byte string (see `DERCertificates`).
    public static func parsedOnce(der: Data) -> Certificate? { derCache.certificate(for: der) { Certificate(der: der) } }

    /// TLS clients present the same certificate with every request on their connections,
    /// and OpenSSL 3 spends most of a parse finding a decoder for the public key.
    private static let derCache = ParsedCertificates<Data>(capacity: 256)
}
