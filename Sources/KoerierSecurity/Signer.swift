import CXMLSec
import Foundation
import KoerierXML

/// Signs a message with an enveloped XML Signature over the whole document:
/// `Reference URI=""`, transforms enveloped-signature then exclusive C14N, SHA-256 digest,
/// RSA-SHA256 or ECDSA-P256-SHA256, and KeyInfo with the signer's certificate and chain.
/// The Signature becomes the root's last child, the one place every schema allows it.
public struct Signer: Sendable {
    public let identity: SigningIdentity

    public init(identity: SigningIdentity) { self.identity = identity }

    public func sign(_ document: XMLDocument) throws(SignatureError) -> Data {
        try XMLSec.requireReady()
        guard let root = document.rootElement else { throw SignatureError(.signatureStructure, "the document has no root element") }
        if SignatureStructure.signatures(in: document).count > 0 {
            throw SignatureError(.alreadySigned, "the message is already signed")
        }
        let method =
            identity.algorithm == .rsaSHA256 ? xmlSecOpenSSLTransformRsaSha256GetKlass() : xmlSecOpenSSLTransformEcdsaSha256GetKlass()
        guard let signature = xmlSecTmplSignatureCreate(document.pointer, xmlSecTransformExclC14NGetKlass(), method, nil) else {
            throw SignatureError(.internalFailure, "cannot create the signature template")
        }
        xmlAddChild(root, signature)
        guard let reference = xmlSecTmplSignatureAddReference(signature, xmlSecOpenSSLTransformSha256GetKlass(), nil, "", nil),
            xmlSecTmplReferenceAddTransform(reference, xmlSecTransformEnvelopedGetKlass()) != nil,
            xmlSecTmplReferenceAddTransform(reference, xmlSecTransformExclC14NGetKlass()) != nil,
            let keyInfo = xmlSecTmplSignatureEnsureKeyInfo(signature, nil),
            let x509Data = xmlSecTmplKeyInfoAddX509Data(keyInfo),
            xmlSecTmplX509DataAddCertificate(x509Data) != nil
        else {
            throw SignatureError(.internalFailure, "cannot complete the signature template")
        }
        guard let context = xmlSecDSigCtxCreate(nil) else { throw SignatureError(.internalFailure, "cannot create a signing context") }
        defer { xmlSecDSigCtxDestroy(context) }
        let signed: Int32 = identity.signingKeys.with { key in
            guard let key else { return -1 }
            context.pointee.signKey = key
            // The key goes back to the pool: xmlsec must not free it with the context.
            defer { context.pointee.signKey = nil }
            return xmlSecDSigCtxSign(context, signature)
        }
        guard signed == 0 else { throw SignatureError(.internalFailure, "libxmlsec1 could not sign the message") }
        return try Signer.serialize(document)
    }

    static func serialize(_ document: XMLDocument) throws(SignatureError) -> Data {
        var buffer: UnsafeMutablePointer<xmlChar>?
        var size: Int32 = 0
        xmlDocDumpMemoryEnc(document.pointer, &buffer, &size, "UTF-8")
        guard let buffer, size > 0 else { throw SignatureError(.internalFailure, "cannot serialize the signed message") }
        defer { koerier_xml_free(buffer) }
        return Data(bytes: buffer, count: Int(size))
    }
}
