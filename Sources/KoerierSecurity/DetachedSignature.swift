import CXMLSec
import Foundation

/// A plain signature over bytes with the gateway's own key (RSA or ECDSA, SHA-256), for
/// records kept outside the store such as audit checkpoints: anyone holding the gateway's
/// certificate can check one, and nobody without its key can make one.
public enum DetachedSignature {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func sign(_ data: Data, keyFile: URL) throws -> Data {
        guard let pem = FileManager.default.contents(atPath: keyFile.path),
            let key = readPEM(pem, { PEM_read_bio_PrivateKey($0, nil, nil, nil) }).first
        else { throw Failure(description: "\(keyFile.path): cannot read the private key (PEM, unencrypted)") }
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { throw Failure(description: "cannot make a signing context") }
        defer { EVP_MD_CTX_free(context) }
        var length = 0
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key) == 1,
            data.withUnsafeBytes({ EVP_DigestSign(context, nil, &length, $0.bindMemory(to: UInt8.self).baseAddress, $0.count) }) == 1
        else {
            ERR_clear_error()
            throw Failure(description: "cannot sign")
        }
        var signature = [UInt8](repeating: 0, count: length)
        guard
            data.withUnsafeBytes({ EVP_DigestSign(context, &signature, &length, $0.bindMemory(to: UInt8.self).baseAddress, $0.count) }) == 1
        else {
            ERR_clear_error()
            throw Failure(description: "cannot sign")
        }
        return Data(signature.prefix(length))
    }

    public static func verify(_ data: Data, signature: Data, certificate: Certificate) -> Bool {
        guard let key = X509_get0_pubkey(certificate.pointer), let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        defer { ERR_clear_error() }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, key) == 1 else { return false }
        let result = signature.withUnsafeBytes { signatureBytes in
            data.withUnsafeBytes { bytes in
                EVP_DigestVerify(
                    context, signatureBytes.bindMemory(to: UInt8.self).baseAddress, signatureBytes.count,
                    bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count)
            }
        }
        return result == 1
    }

    public static func certificate(file: URL) -> Certificate? {
        FileManager.default.contents(atPath: file.path).flatMap { Certificate.loadPEM($0).first }
    }
}
