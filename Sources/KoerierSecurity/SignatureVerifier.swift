import CXMLSec
import Foundation
import KoerierModel
import KoerierXML

/// Who signed a message, as proven by a verified signature.
public struct VerifiedSigner: Sendable, CustomStringConvertible {
    public let subject: String
    public let organisation: String?
    /// `("URA", "90000123")` from the certificate's UZI otherName; in test mode also
    /// `("URA", …)` or `("AGB", …)` from the subject serialNumber (see `IdentityPolicy`).
    public let careIdentifierKind: String?
    public let careIdentifier: String?
    /// The UZI register's otherName, when the certificate carries one (UZI number, AGB).
    public let uzi: UZIName?
    public let algorithm: SignatureAlgorithm

    /// The AGB the certificate proves: from a UZI server certificate's otherName, or (test
    /// mode) the subject serialNumber `AGB …`.
    public var agb: String? {
        if careIdentifierKind == "AGB" { return careIdentifier }
        return uzi?.serverURA != nil ? uzi?.agb : nil
    }

    /// Whether the signer is the party that `ura` and `agb` name: by URA when one is given,
    /// else by AGB. A party named by neither is never matched.
    public func isParty(ura: String?, agb: String?) -> Bool {
        if let ura { return careIdentifierKind == "URA" && careIdentifier == ura }
        if let agb { return self.agb == agb }
        return false
    }

    public var description: String {
        var text = subject
        if let kind = careIdentifierKind, let value = careIdentifier { text += " (\(kind) \(value))" }
        return text + ", " + algorithm.rawValue
    }
}

/// Verifies Koerier's one signature shape against the trust store. Policy first (shape,
/// algorithms, certificate validity, key usage, key strength, chain to an anchor), then
/// the cryptography in libxmlsec1 with the verified certificate's public key only.
public struct SignatureVerifier: Sendable {
    public let trust: TrustStore
    /// What may name a party: outside test mode only the UZI otherName.
    public let identities: IdentityPolicy

    public init(trust: TrustStore, identities: IdentityPolicy = .uziOnly) {
        self.trust = trust
        self.identities = identities
    }

    public func verify(_ document: XMLDocument, at date: Date = Date()) throws(SignatureError) -> VerifiedSigner {
        try XMLSec.requireReady()
        let structure = try SignatureStructure(document)
        let signer = structure.certificates[0]
        try checkCertificate(signer, method: structure.method, at: date)
        try trust.verifyChain(leaf: signer, intermediates: Array(structure.certificates.dropFirst()), at: date)
        try verifyCryptography(structure, key: signer)
        let identifier = signer.careIdentifier(identities)
        return VerifiedSigner(
            subject: signer.subject, organisation: signer.subjectOrganisation,
            careIdentifierKind: identifier?.kind, careIdentifier: identifier?.value, uzi: signer.uziName,
            algorithm: structure.method)
    }

    /// The envelope's sender must be the party that signed: by the URA (or, in test mode,
    /// AGB) its certificate proves. A certificate that proves no identifier names nobody;
    /// only in test mode is the organisation name compared instead.
    public func requireSender(_ sender: Party, matches signer: VerifiedSigner) throws(SignatureError) {
        if let identifier = signer.careIdentifier {
            guard !signer.isParty(ura: sender.ura?.value, agb: sender.agb?.value) else { return }
            let kind = signer.careIdentifierKind ?? ""
            if let ura = sender.ura {
                let signers = kind == "URA" ? identifier : "none"
                throw SignatureError(.senderMismatch, "the envelope's sender URA (\(ura.value)) is not the signer's (\(signers))")
            }
            if let agb = sender.agb {
                throw SignatureError(
                    .senderMismatch, "the envelope's sender AGB (\(agb.value)) is not the signer's (\(signer.agb ?? "none"))")
            }
            throw SignatureError(.senderMismatch, "the envelope's sender has no URA or AGB; the signer is \(kind) \(identifier)")
        }
        guard identities.allowsTestIdentities else {
            throw SignatureError(
                .senderMismatch, "the signer's certificate carries no UZI identity (subjectAltName otherName \(UZIName.typeID) with a URA)")
        }
        guard sender.organisation == signer.organisation else {
            throw SignatureError(
                .senderMismatch,
                "the envelope's sender '\(sender.organisation)' is not the signer's organisation '\(signer.organisation ?? "")'")
        }
    }

    private func checkCertificate(_ certificate: Certificate, method: SignatureAlgorithm, at date: Date) throws(SignatureError) {
        switch certificate.validity(at: date) {
        case 1: throw SignatureError(.expired, "the signer's certificate expired on \(certificate.notAfter)")
        case -1: throw SignatureError(.notYetValid, "the signer's certificate is valid only from \(certificate.notBefore)")
        default: break
        }
        guard certificate.allowsDigitalSignature else {
            throw SignatureError(.keyUsage, "the signer's certificate does not allow digitalSignature (keyUsage)")
        }
        let key = certificate.publicKey
        switch method {
        case .rsaSHA256:
            guard key.isRSA else { throw SignatureError(.weakAlgorithm, "RSA-SHA256 signature but the certificate's key is not RSA") }
            guard key.bits >= 2048 else { throw SignatureError(.weakKey, "RSA key of \(key.bits) bits; at least 2048 are required") }
        case .ecdsaP256SHA256:
            guard key.isP256 else { throw SignatureError(.weakKey, "ECDSA signature but the certificate's key is not on P-256") }
        }
    }

    private func verifyCryptography(_ structure: SignatureStructure, key certificate: Certificate) throws(SignatureError) {
        guard let context = xmlSecDSigCtxCreate(nil) else { throw SignatureError(.internalFailure, "cannot create a verification context") }
        defer { xmlSecDSigCtxDestroy(context) }
        guard let publicKey = X509_get_pubkey(certificate.pointer) else {
            throw SignatureError(.malformedCertificate, "cannot read the signer's public key")
        }
        guard let keyData = xmlSecOpenSSLEvpKeyAdopt(publicKey) else {
            EVP_PKEY_free(publicKey)
            throw SignatureError(.internalFailure, "cannot hand the public key to libxmlsec1")
        }
        guard let key = xmlSecKeyCreate() else {
            xmlSecKeyDataDestroy(keyData)
            throw SignatureError(.internalFailure, "cannot create a key")
        }
        guard xmlSecKeySetValue(key, keyData) == 0 else {
            xmlSecKeyDataDestroy(keyData)
            xmlSecKeyDestroy(key)
            throw SignatureError(.internalFailure, "cannot set the key")
        }
        // The key is the verified certificate's; xmlsec must not look for another in KeyInfo.
        context.pointee.signKey = key
        // Defence in depth: the same allow-list as the structure check, enforced by xmlsec.
        context.pointee.enabledReferenceUris = xmlSecTransformUriType(xmlSecTransformUriTypeEmpty)
        xmlSecDSigCtxEnableReferenceTransform(context, xmlSecTransformEnvelopedGetKlass())
        xmlSecDSigCtxEnableReferenceTransform(context, xmlSecTransformExclC14NGetKlass())
        xmlSecDSigCtxEnableReferenceTransform(context, xmlSecOpenSSLTransformSha256GetKlass())
        xmlSecDSigCtxEnableSignatureTransform(context, xmlSecTransformExclC14NGetKlass())
        xmlSecDSigCtxEnableSignatureTransform(context, xmlSecOpenSSLTransformRsaSha256GetKlass())
        xmlSecDSigCtxEnableSignatureTransform(context, xmlSecOpenSSLTransformEcdsaSha256GetKlass())

        let result = xmlSecDSigCtxVerify(context, structure.signature)
        if result == 0, context.pointee.status == xmlSecDSigStatusSucceeded { return }
        // Which part failed: a reference's digest (content changed) or the signature value.
        let digestFailed = withUnsafeMutablePointer(to: &context.pointee.signedInfoReferences) { references in
            (0..<xmlSecPtrListGetSize(references)).contains { index in
                guard let item = xmlSecPtrListGetItem(references, index) else { return false }
                return item.assumingMemoryBound(to: xmlSecDSigReferenceCtx.self).pointee.status != xmlSecDSigStatusSucceeded
            }
        }
        if digestFailed {
            throw SignatureError(.tamperedDigest, "the signed content was changed: the digest of the document does not match")
        }
        throw SignatureError(.badSignatureValue, "the signature value does not verify with the signer's public key")
    }
}

extension SignatureVerifier {
    /// Whether the document carries an XML Signature element (by structure, not by searching bytes).
    public static func isSigned(_ document: XMLDocument) -> Bool { !SignatureStructure.signatures(in: document).isEmpty }
}
