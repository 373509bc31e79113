import CXMLSec
import Foundation

/// The configured trust anchors (a PEM bundle) and optional CRLs. Chains are built from
/// the signer's certificate through the intermediates sent in KeyInfo to an anchor.
public final class TrustStore: @unchecked Sendable {
    public let anchors: [Certificate]
    private let crls: [OpaquePointer]

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(anchorsPEM: Data, crlPEM: Data? = nil) throws {
        guard XMLSec.ready else { throw LoadError(description: "libxmlsec1 could not be initialised") }
        anchors = Certificate.loadPEM(anchorsPEM)
        guard !anchors.isEmpty else { throw LoadError(description: "no PEM certificate found in the trust anchors") }
        crls = crlPEM.map { readPEM($0) { PEM_read_bio_X509_CRL($0, nil, nil, nil) } } ?? []
        if crlPEM != nil && crls.isEmpty { throw LoadError(description: "no PEM CRL found in the CRL file") }
    }

    public convenience init(anchorsFile: URL, crlFile: URL? = nil) throws {
        guard let anchors = FileManager.default.contents(atPath: anchorsFile.path) else {
            throw LoadError(description: "\(anchorsFile.path): cannot read the trust anchors")
        }
        var crl: Data?
        if let crlFile {
            guard let data = FileManager.default.contents(atPath: crlFile.path) else {
                throw LoadError(description: "\(crlFile.path): cannot read the CRL file")
            }
            crl = data
        }
        try self.init(anchorsPEM: anchors, crlPEM: crl)
    }

    deinit { for crl in crls { X509_CRL_free(crl) } }

    /// Verifies that `leaf` chains to an anchor at `date` (validity of every certificate in
    /// the chain, and revocation when CRLs are configured).
    func verifyChain(leaf: Certificate, intermediates: [Certificate], at date: Date) throws(SignatureError) {
        guard let store = X509_STORE_new(), let context = X509_STORE_CTX_new(), let untrusted = OPENSSL_sk_new_null() else {
            throw SignatureError(.internalFailure, "OpenSSL could not allocate a certificate store")
        }
        defer {
            X509_STORE_CTX_free(context)
            X509_STORE_free(store)
            OPENSSL_sk_free(untrusted)
        }
        for anchor in anchors { X509_STORE_add_cert(store, anchor.pointer) }
        for crl in crls { X509_STORE_add_crl(store, crl) }
        if !crls.isEmpty { X509_STORE_set_flags(store, UInt(X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL)) }
        for certificate in intermediates { OPENSSL_sk_push(untrusted, UnsafeRawPointer(certificate.pointer)) }
        guard X509_STORE_CTX_init(context, store, leaf.pointer, untrusted) == 1 else {
            throw SignatureError(.internalFailure, "OpenSSL could not start chain verification")
        }
        X509_STORE_CTX_set_time(context, 0, time_t(date.timeIntervalSince1970))
        if X509_verify_cert(context) == 1 { return }
        let code = X509_STORE_CTX_get_error(context)
        let explanation = String(cString: X509_verify_cert_error_string(Int(code)))
        let depth = X509_STORE_CTX_get_error_depth(context)
        let which = depth == 0 ? "the signer's certificate" : "a certificate in its chain (depth \(depth))"
        switch code {
        case X509_V_ERR_CERT_HAS_EXPIRED:
            throw SignatureError(.expired, "\(which) has expired: \(explanation)")
        case X509_V_ERR_CERT_NOT_YET_VALID:
            throw SignatureError(.notYetValid, "\(which) is not yet valid: \(explanation)")
        case X509_V_ERR_CERT_REVOKED:
            throw SignatureError(.revoked, "\(which) is revoked: \(explanation)")
        default:
            throw SignatureError(.untrustedChain, "the signer's certificate does not chain to a trusted anchor: \(explanation)")
        }
    }
}
