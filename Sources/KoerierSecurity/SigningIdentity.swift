import CXMLSec
import Foundation
import KoerierXML

/// A private key with its certificate and intermediates, ready to sign. The key is
/// loaded once; each signature works on a duplicate, which xmlsec consumes.
public final class SigningIdentity: @unchecked Sendable {
    let key: xmlSecKeyPtr
    /// Copies of `key` for signing: xmlsec keeps per-signature state in the key it signs
    /// with, and duplicating one per signature (it re-parses the certificates) cost a
    /// fifth of an RSA signature.
    let signingKeys: ContextPool<xmlSecKeyPtr>
    public let algorithm: SignatureAlgorithm
    public let certificate: Certificate

    public init(keyPEM: Data, certificatePEM: Data, chainPEM: Data? = nil) throws(SignatureError) {
        try XMLSec.requireReady()
        guard let certificate = Certificate.loadPEM(certificatePEM).first else {
            throw SignatureError(.malformedCertificate, "no PEM certificate found for the signer")
        }
        let publicKey = certificate.publicKey
        if publicKey.isRSA {
            guard publicKey.bits >= 2048 else {
                throw SignatureError(.weakKey, "RSA key of \(publicKey.bits) bits; Koerier signs with at least 2048")
            }
            algorithm = .rsaSHA256
        } else if publicKey.isP256 {
            algorithm = .ecdsaP256SHA256
        } else {
            throw SignatureError(.weakKey, "the signer's key is neither RSA (>= 2048 bits) nor ECDSA P-256")
        }
        guard certificate.allowsDigitalSignature else {
            throw SignatureError(.keyUsage, "the signer's certificate does not allow digitalSignature")
        }
        let loaded = keyPEM.withUnsafeBytes { buffer in
            xmlSecOpenSSLAppKeyLoadMemory(
                buffer.bindMemory(to: UInt8.self).baseAddress, UInt32(buffer.count),
                xmlSecKeyDataFormatPem, nil, nil, nil)
        }
        guard let loaded else { throw SignatureError(.badKey, "cannot read the private key (PEM, unencrypted)") }
        // xmlsec would happily pair a key with someone else's certificate: check they match.
        guard let privateKey = xmlSecOpenSSLEvpKeyDataGetEvp(xmlSecKeyGetValue(loaded)),
            X509_check_private_key(certificate.pointer, privateKey) == 1
        else {
            xmlSecKeyDestroy(loaded)
            ERR_clear_error()
            throw SignatureError(.badKey, "the certificate does not belong to the private key")
        }
        // Certificates go into the key's X509 data, signer first: xmlsec writes them to KeyInfo.
        let chain = chainPEM.map(Certificate.loadPEM) ?? []
        for member in [certificate] + chain {
            let der = member.der
            let added = der.withUnsafeBytes { buffer in
                xmlSecOpenSSLAppKeyCertLoadMemory(
                    loaded, buffer.bindMemory(to: UInt8.self).baseAddress, UInt32(buffer.count),
                    xmlSecKeyDataFormatDer)
            }
            guard added == 0 else {
                xmlSecKeyDestroy(loaded)
                throw SignatureError(.badKey, "a certificate cannot be added to the signing key")
            }
        }
        key = loaded
        // Copies are made one at a time: duplicating walks the shared key's certificates,
        // and neither xmlsec nor OpenSSL promise that is safe from two threads at once.
        let duplicating = NSLock()
        signingKeys = ContextPool(make: { duplicating.withLock { xmlSecKeyDuplicate(loaded) } }, destroy: { xmlSecKeyDestroy($0) })
        self.certificate = certificate
    }

    public convenience init(keyFile: URL, certificateFile: URL, chainFile: URL? = nil) throws {
        func read(_ url: URL) throws -> Data {
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw SignatureError(.badKey, "\(url.path): cannot read the file")
            }
            return data
        }
        try self.init(keyPEM: try read(keyFile), certificatePEM: try read(certificateFile), chainPEM: try chainFile.map(read))
    }

    deinit { xmlSecKeyDestroy(key) }
}
