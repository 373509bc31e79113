/// Why a signature, a certificate or a signing key was refused. The reason is a stable
/// code (for tests, receipts and ops); the message says precisely what was found.
public struct SignatureError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Reason: String, Sendable {
        case unsigned
        case multipleSignatures = "multiple-signatures"
        case signaturePlacement = "signature-placement"
        case signatureStructure = "signature-structure"
        case wrappedReference = "wrapped-reference"
        case disallowedTransform = "disallowed-transform"
        case weakAlgorithm = "weak-algorithm"
        case weakKey = "weak-key"
        case tamperedDigest = "tampered-digest"
        case badSignatureValue = "bad-signature-value"
        case malformedCertificate = "malformed-certificate"
        case untrustedChain = "untrusted-chain"
        case expired
        case notYetValid = "not-yet-valid"
        case revoked
        case keyUsage = "key-usage"
        case senderMismatch = "sender-mismatch"
        case receiptMismatch = "receipt-mismatch"
        case alreadySigned = "already-signed"
        case badKey = "bad-key"
        /// Our own revocation data cannot vouch now (a CRL past its nextUpdate, or none for
        /// the chain's issuer): not the signer's fault.
        case revocationUnknown = "revocation-unknown"
        case internalFailure = "internal"
    }

    /// The fault is this gateway's (its CRLs, OpenSSL or libxmlsec1), not the document's:
    /// an answer must say "later", never reject.
    public var isOurs: Bool { reason == .revocationUnknown || reason == .internalFailure }

    public let reason: Reason
    public let message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(message) [\(reason.rawValue)]" }
}
