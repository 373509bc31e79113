import CXMLSec
import Foundation

/// S/MIME through OpenSSL CMS: a MIME entity is signed (opaque signed-data, the signer's
/// certificate and chain included) and the signed entity is then encrypted to the
/// recipient's certificate (AES-256-CBC, RFC 5751). Nothing clinical leaves by mail
/// without both.
public enum SMIME {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The signed-then-encrypted S/MIME entity (headers and base64 body, CRLF line ends),
    /// ready to follow the mail's own header lines.
    public static func signAndEncrypt(_ entity: Data, signer: SMIMESigner, recipient: Certificate) throws -> Data {
        let signed = try withBIO(entity) { input in
            try cmsOutput(
                CMS_sign(signer.certificate.pointer, signer.privateKey, signer.chainStack, input, UInt32(CMS_BINARY)),
                content: nil, flags: 0, what: "signing")
        }
        guard let recipients = OPENSSL_sk_new_null() else { throw Failure(description: "out of memory") }
        defer { OPENSSL_sk_free(recipients) }
        OPENSSL_sk_push(recipients, UnsafeRawPointer(recipient.pointer))
        let encrypted = try withBIO(signed) { input in
            try cmsOutput(
                CMS_encrypt(recipients, input, EVP_aes_256_cbc(), UInt32(CMS_BINARY)), content: nil,
                flags: Int32(SMIME_CRLFEOL), what: "encrypting to the recipient's certificate")
        }
        return crlfLines(encrypted)
    }

    /// OpenSSL ends base64 lines with a bare LF even with SMIME_CRLFEOL; mail wants CRLF
    /// throughout (a strict relay reads a bare-LF body as one over-long line).
    static func crlfLines(_ data: Data) -> Data {
        // One pass over raw bytes into a buffer sized for the worst case (Data.append per
        // byte was a visible cost per mail).
        let converted = data.withUnsafeBytes { input in
            [UInt8](unsafeUninitializedCapacity: input.count * 2) { buffer, count in
                count = 0
                var previous: UInt8 = 0
                for byte in input {
                    if byte == 0x0a && previous != 0x0d {
                        buffer[count] = 0x0d
                        count += 1
                    }
                    buffer[count] = byte
                    count += 1
                    previous = byte
                }
            }
        }
        return Data(converted)
    }

    private static func withBIO<T>(_ data: Data, _ body: (OpaquePointer) throws -> T) throws -> T {
        try data.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { throw Failure(description: "out of memory") }
            defer { BIO_free(bio) }
            return try body(bio)
        }
    }

    private static func cmsOutput(_ cms: OpaquePointer?, content: OpaquePointer?, flags: Int32, what: String) throws -> Data {
        guard let cms else { throw Failure(description: "S/MIME \(what) failed: \(openSSLError())") }
        defer { CMS_ContentInfo_free(cms) }
        guard let output = BIO_new(BIO_s_mem()) else { throw Failure(description: "out of memory") }
        defer { BIO_free(output) }
        guard SMIME_write_CMS(output, cms, content, flags) == 1 else {
            throw Failure(description: "S/MIME \(what): cannot write the result: \(openSSLError())")
        }
        return Data(bioString(output).utf8)
    }
}

/// A private key with its certificate and chain, for S/MIME signing and TLS client use.
public final class SMIMESigner: @unchecked Sendable {
    let privateKey: OpaquePointer
    public let certificate: Certificate
    private let chain: [Certificate]
    let chainStack: OpaquePointer?

    public init(keyPEM: Data, certificatePEM: Data, chainPEM: Data?) throws {
        guard let certificate = Certificate.loadPEM(certificatePEM).first else {
            throw SMIME.Failure(description: "no PEM certificate found for the S/MIME signer")
        }
        guard let key = readPEM(keyPEM, { PEM_read_bio_PrivateKey($0, nil, nil, nil) }).first else {
            throw SMIME.Failure(description: "cannot read the S/MIME signer's private key (PEM, unencrypted)")
        }
        guard X509_check_private_key(certificate.pointer, key) == 1 else {
            EVP_PKEY_free(key)
            ERR_clear_error()
            throw SMIME.Failure(description: "the certificate does not belong to the private key")
        }
        privateKey = key
        self.certificate = certificate
        chain = chainPEM.map(Certificate.loadPEM) ?? []
        chainStack = OPENSSL_sk_new_null()
        for member in chain { OPENSSL_sk_push(chainStack, UnsafeRawPointer(member.pointer)) }
    }

    deinit {
        OPENSSL_sk_free(chainStack)
        EVP_PKEY_free(privateKey)
    }
}

func openSSLError() -> String {
    let code = ERR_get_error()
    ERR_clear_error()
    guard code != 0 else { return "no detail from OpenSSL" }
    var buffer = [CChar](repeating: 0, count: 256)
    ERR_error_string_n(code, &buffer, buffer.count)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
