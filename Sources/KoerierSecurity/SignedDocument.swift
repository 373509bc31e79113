import CXMLSec
import Foundation

/// A document with a detached CMS signature (`openssl cms -sign -binary`, DER or PEM), such
/// as a consent document from the record system. The signature must cover exactly these
/// bytes, have one signer, and the signer's chain (the certificates the signature carries)
/// must reach the trust anchors, valid and unrevoked. Who the signer must be is the caller's
/// decision.
public enum SignedDocument {
    public static func verify(_ content: Data, signature: Data, trust: TrustStore, at date: Date = Date()) throws(SignatureError)
        -> Certificate
    {
        defer { ERR_clear_error() }
        guard let cms = parse(signature) else {
            throw SignatureError(.signatureStructure, "the signature is not a CMS signed-data structure (DER or PEM)")
        }
        defer { CMS_ContentInfo_free(cms) }
        // The chain is checked below against the configured anchors and CRL, as every signer's.
        let flags = UInt32(CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY)
        let verified = content.withUnsafeBytes { buffer -> Bool in
            guard let input = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return false }
            defer { BIO_free(input) }
            return CMS_verify(cms, nil, nil, input, nil, flags) == 1
        }
        guard verified else { throw SignatureError(.badSignatureValue, "the signature does not cover these bytes") }
        guard let signers = CMS_get0_signers(cms) else { throw SignatureError(.signatureStructure, "the signature names no signer") }
        defer { OPENSSL_sk_free(signers) }
        guard OPENSSL_sk_num(signers) == 1, let leaf = OPENSSL_sk_value(signers, 0) else {
            throw SignatureError(.signatureStructure, "the signature must have exactly one signer")
        }
        let signer = Certificate(retaining: OpaquePointer(leaf))
        var intermediates: [Certificate] = []
        if let carried = CMS_get1_certs(cms) {
            defer { OPENSSL_sk_pop_free(carried) { X509_free(OpaquePointer($0)) } }
            for index in 0..<OPENSSL_sk_num(carried) {
                guard let member = OPENSSL_sk_value(carried, index) else { continue }
                let certificate = Certificate(retaining: OpaquePointer(member))
                if certificate.fingerprint != signer.fingerprint { intermediates.append(certificate) }
            }
        }
        try trust.verifyChain(leaf: signer, intermediates: intermediates, at: date)
        guard signer.allowsDigitalSignature else {
            throw SignatureError(.keyUsage, "the signer's certificate does not allow digitalSignature")
        }
        return signer
    }

    private static func parse(_ signature: Data) -> OpaquePointer? {
        signature.withUnsafeBytes { buffer -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            if signature.starts(with: Data("-----BEGIN".utf8)) { return PEM_read_bio_CMS(bio, nil, nil, nil) }
            return d2i_CMS_bio(bio, nil)
        }
    }
}
