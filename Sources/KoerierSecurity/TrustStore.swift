import CXMLSec
import Foundation

/// The configured trust anchors (a PEM bundle) and optional CRLs. Chains are built from
/// the signer's certificate through the intermediates sent in KeyInfo to an anchor. The
/// OpenSSL store is built once; a chain that verified is remembered by the SHA-256
/// fingerprints of its certificates until the earliest of their expiry and the CRLs' next update (a reload
/// with new anchors or CRLs makes a new `TrustStore`, and so a new cache).
public final class TrustStore: @unchecked Sendable {
    public let anchors: [Certificate]
    private let crls: [OpaquePointer]
    private let store: OpaquePointer
    private let verifiedChains: VerifiedChainCache?
    /// The CRLs' earliest next update: no verification is trusted from cache beyond it.
    private let crlNextUpdate: time_t?

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// `cacheChains: false` verifies every chain from scratch (for a bench's uncached figure).
    public init(anchorsPEM: Data, crlPEM: Data? = nil, cacheChains: Bool = true) throws {
        guard XMLSec.ready else { throw LoadError(description: "libxmlsec1 could not be initialised") }
        anchors = Certificate.loadPEM(anchorsPEM)
        guard !anchors.isEmpty else { throw LoadError(description: "no PEM certificate found in the trust anchors") }
        crls = crlPEM.map { readPEM($0) { PEM_read_bio_X509_CRL($0, nil, nil, nil) } } ?? []
        if crlPEM != nil && crls.isEmpty { throw LoadError(description: "no PEM CRL found in the CRL file") }
        guard let store = X509_STORE_new() else { throw LoadError(description: "OpenSSL could not allocate a certificate store") }
        for anchor in anchors { X509_STORE_add_cert(store, anchor.pointer) }
        for crl in crls { X509_STORE_add_crl(store, crl) }
        if !crls.isEmpty { X509_STORE_set_flags(store, UInt(X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL)) }
        self.store = store
        verifiedChains = cacheChains ? VerifiedChainCache(capacity: 4096) : nil
        crlNextUpdate = crls.compactMap { ASN1Time.seconds(X509_CRL_get0_nextUpdate($0)) }.min()
    }

    public convenience init(anchorsFile: URL, crlFile: URL? = nil, cacheChains: Bool = true) throws {
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
        try self.init(anchorsPEM: anchors, crlPEM: crl, cacheChains: cacheChains)
    }

    deinit {
        X509_STORE_free(store)
        for crl in crls { X509_CRL_free(crl) }
    }

    /// Verifies that `leaf` chains to an anchor at `date` (validity of every certificate in
    /// the chain, and revocation when CRLs are configured).
    func verifyChain(
        leaf: Certificate, intermediates: [Certificate], at date: Date, role: String = "the signer's certificate"
    ) throws(SignatureError) {
        let moment = time_t(date.timeIntervalSince1970)
        let key = verifiedChains.map { _ in ([leaf] + intermediates).map(\.fingerprint).joined(separator: ":") }
        if let key, verifiedChains?.covers(key, at: moment) == true { return }
        try verifyFromScratch(leaf: leaf, intermediates: intermediates, at: moment, role: role)
        guard let key, let verifiedChains else { return }
        // Valid from the latest notBefore to the earliest notAfter of the chain sent, and no
        // longer than the CRLs vouch for.
        let certificates = [leaf] + intermediates
        let from = certificates.compactMap { ASN1Time.seconds(X509_get0_notBefore($0.pointer)) }.max() ?? moment
        var until = certificates.compactMap { ASN1Time.seconds(X509_get0_notAfter($0.pointer)) }.min() ?? moment
        if let crlNextUpdate { until = min(until, crlNextUpdate) }
        verifiedChains.remember(key, from: from, until: until)
    }

    private func verifyFromScratch(leaf: Certificate, intermediates: [Certificate], at moment: time_t, role: String) throws(SignatureError)
    {
        guard let context = X509_STORE_CTX_new(), let untrusted = OPENSSL_sk_new_null() else {
            throw SignatureError(.internalFailure, "OpenSSL could not allocate a verification context")
        }
        defer {
            X509_STORE_CTX_free(context)
            OPENSSL_sk_free(untrusted)
        }
        for certificate in intermediates { OPENSSL_sk_push(untrusted, UnsafeRawPointer(certificate.pointer)) }
        guard X509_STORE_CTX_init(context, store, leaf.pointer, untrusted) == 1 else {
            throw SignatureError(.internalFailure, "OpenSSL could not start chain verification")
        }
        X509_STORE_CTX_set_time(context, 0, moment)
        if X509_verify_cert(context) == 1 { return }
        let code = X509_STORE_CTX_get_error(context)
        let explanation = String(cString: X509_verify_cert_error_string(Int(code)))
        let depth = X509_STORE_CTX_get_error_depth(context)
        let which = depth == 0 ? role : "a certificate in its chain (depth \(depth))"
        switch code {
        case X509_V_ERR_CERT_HAS_EXPIRED:
            throw SignatureError(.expired, "\(which) has expired: \(explanation)")
        case X509_V_ERR_CERT_NOT_YET_VALID:
            throw SignatureError(.notYetValid, "\(which) is not yet valid: \(explanation)")
        case X509_V_ERR_CERT_REVOKED:
            throw SignatureError(.revoked, "\(which) is revoked: \(explanation)")
        case X509_V_ERR_UNABLE_TO_GET_CRL, X509_V_ERR_CRL_HAS_EXPIRED, X509_V_ERR_CRL_NOT_YET_VALID, X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER,
            X509_V_ERR_CRL_SIGNATURE_FAILURE, X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE, X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD,
            X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
            throw SignatureError(.revocationUnknown, "the configured CRLs cannot say whether \(which) is revoked: \(explanation)")
        default:
            throw SignatureError(.untrustedChain, "\(role) does not chain to a trusted anchor: \(explanation)")
        }
    }
}

/// Chains that verified, by the SHA-256 of their certificates, with the window in which
/// that verdict holds. Only successes are kept: a failure is verified again each time.
final class VerifiedChainCache: @unchecked Sendable {
    private let lock = NSLock()
    private var windows: [String: (from: time_t, until: time_t)] = [:]
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func covers(_ key: String, at moment: time_t) -> Bool {
        lock.withLock {
            guard let window = windows[key] else { return false }
            return window.from <= moment && moment < window.until
        }
    }

    func remember(_ key: String, from: time_t, until: time_t) {
        lock.withLock {
            if windows.count >= capacity { windows.removeAll(keepingCapacity: true) }
            windows[key] = (from, until)
        }
    }
}

/// ASN.1 times (certificate validity, CRL updates) as seconds since 1970.
enum ASN1Time {
    static func seconds(_ time: UnsafePointer<ASN1_TIME>?) -> time_t? {
        guard let time else { return nil }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
        return timegm(&parts)
    }
}

extension TrustStore {
    /// The earliest nextUpdate of the CRLs in a PEM file; nil when it holds none or cannot be read.
    public static func crlNextUpdate(file: URL) -> Date? {
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        let crls = readPEM(data) { PEM_read_bio_X509_CRL($0, nil, nil, nil) }
        defer { for crl in crls { X509_CRL_free(crl) } }
        return crls.compactMap { ASN1Time.seconds(X509_CRL_get0_nextUpdate($0)) }.min().map {
            Date(timeIntervalSince1970: TimeInterval($0))
        }
    }
}

extension TrustStore {
    /// A TLS peer's chain as it sent it (DER, leaf first), checked like a signer's: to an
    /// anchor, valid now, and not revoked by the configured CRLs.
    public func verifyPeer(chain: [Data], at date: Date = Date()) throws(SignatureError) {
        let certificates = chain.compactMap(Certificate.parsedOnce(der:))
        guard certificates.count == chain.count, let leaf = certificates.first else {
            throw SignatureError(.untrustedChain, "the peer sent no certificate, or one that cannot be read")
        }
        try verifyChain(leaf: leaf, intermediates: Array(certificates.dropFirst()), at: date)
    }
}

extension TrustStore {
    /// A recipient's S/MIME certificate, checked before anything is encrypted to it: within
    /// its validity period, chained (through `intermediates`) to an anchor and not revoked
    /// when CRLs are configured, and with a keyUsage that allows encrypting to its key:
    /// keyEncipherment for RSA, keyAgreement for EC.
    public func verifyEncryptionCertificate(
        _ certificate: Certificate, intermediates: [Certificate] = [], at date: Date = Date()
    ) throws(SignatureError) {
        let role = "the recipient's S/MIME certificate"
        switch certificate.validity(at: date) {
        case 1: throw SignatureError(.expired, "\(role) expired on \(certificate.notAfter)")
        case -1: throw SignatureError(.notYetValid, "\(role) is valid only from \(certificate.notBefore)")
        default: break
        }
        let key = certificate.publicKey
        if key.isRSA {
            guard certificate.allowsKeyUsage(UInt32(KU_KEY_ENCIPHERMENT)) else {
                throw SignatureError(.keyUsage, "\(role) does not allow keyEncipherment (keyUsage), needed for an RSA recipient")
            }
            guard key.bits >= 2048 else { throw SignatureError(.weakKey, "\(role) has an RSA key of \(key.bits) bits; at least 2048") }
        } else if key.isP256 {
            guard certificate.allowsKeyUsage(UInt32(KU_KEY_AGREEMENT)) else {
                throw SignatureError(.keyUsage, "\(role) does not allow keyAgreement (keyUsage), needed for an EC recipient")
            }
        } else {
            throw SignatureError(.weakKey, "\(role) has a key that is neither RSA (>= 2048 bits) nor EC P-256")
        }
        try verifyChain(leaf: certificate, intermediates: intermediates, at: date, role: role)
    }
}
