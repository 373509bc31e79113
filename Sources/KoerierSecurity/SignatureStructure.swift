import CXMLSec
import Foundation
import KoerierXML

/// The one signature shape Koerier accepts, checked on the tree before any cryptography,
/// so that signature-wrapping tricks fail with a precise reason:
///
///     <Root …>…<ds:Signature>                        exactly one, the root's last child
///       <ds:SignedInfo>
///         <ds:CanonicalizationMethod Algorithm="exc-c14n"/>
///         <ds:SignatureMethod Algorithm="rsa-sha256 | ecdsa-sha256"/>
///         <ds:Reference URI="">                       exactly one: the whole document
///           <ds:Transforms> enveloped-signature, exc-c14n </ds:Transforms>
///           <ds:DigestMethod Algorithm="sha256"/> <ds:DigestValue/>
///       </ds:SignedInfo>
///       <ds:SignatureValue/> <ds:KeyInfo><ds:X509Data><ds:X509Certificate/>…
struct SignatureStructure {
    /// The bytes of `text` without space, tab, CR and LF, in one pass over its UTF-8 storage.
    static func withoutWhiteSpace(_ text: String) -> Data {
        var text = text
        let kept = text.withUTF8 { bytes in
            [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, count in
                count = 0
                for byte in bytes where byte != 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D {
                    buffer[count] = byte
                    count += 1
                }
            }
        }
        return Data(kept)
    }

    let signature: xmlNodePtr
    let method: SignatureAlgorithm
    /// Signer first, then intermediates, as found in KeyInfo.
    let certificates: [Certificate]

    static func signatures(in document: XMLDocument) -> [xmlNodePtr] {
        var found: [xmlNodePtr] = []
        func walk(_ node: xmlNodePtr) {
            var child = node.pointee.children
            while let current = child {
                if current.isElement {
                    if current.isNamed("Signature", in: DSig.namespace) { found.append(current) }
                    walk(current)
                }
                child = current.pointee.next
            }
        }
        if let root = document.rootElement {
            if root.isNamed("Signature", in: DSig.namespace) { found.append(root) }
            walk(root)
        }
        return found
    }

    init(_ document: XMLDocument) throws(SignatureError) {
        let all = SignatureStructure.signatures(in: document)
        guard let signature = all.first else { throw SignatureError(.unsigned, "the message carries no XML Signature") }
        guard all.count == 1 else {
            throw SignatureError(.multipleSignatures, "the message carries \(all.count) signatures; exactly one is allowed")
        }
        guard let root = document.rootElement, signature.pointee.parent == root, root.elementChildren.last == signature else {
            throw SignatureError(
                .signaturePlacement, "the Signature must be the last child of the root element (line \(signature.lineNumber))")
        }
        self.signature = signature

        let parts = signature.elementChildren
        guard parts.count == 3, SignatureStructure.isDSig(parts[0], "SignedInfo"), SignatureStructure.isDSig(parts[1], "SignatureValue"),
            SignatureStructure.isDSig(parts[2], "KeyInfo")
        else {
            throw SignatureError(.signatureStructure, "Signature must hold exactly SignedInfo, SignatureValue and KeyInfo")
        }
        let signedInfo = parts[0].elementChildren
        guard signedInfo.count >= 3, SignatureStructure.isDSig(signedInfo[0], "CanonicalizationMethod"),
            SignatureStructure.isDSig(signedInfo[1], "SignatureMethod")
        else {
            throw SignatureError(.signatureStructure, "SignedInfo must start with CanonicalizationMethod and SignatureMethod")
        }
        guard SignatureStructure.algorithm(signedInfo[0]) == DSig.exclusiveC14N else {
            throw SignatureError(
                .disallowedTransform, "canonicalization \(SignatureStructure.algorithm(signedInfo[0]) ?? "none") is not exclusive C14N")
        }
        switch SignatureStructure.algorithm(signedInfo[1]) {
        case DSig.rsaSHA256: method = .rsaSHA256
        case DSig.ecdsaSHA256: method = .ecdsaP256SHA256
        case let other:
            throw SignatureError(.weakAlgorithm, "signature method \(other ?? "none") is not allowed; only RSA-SHA256 and ECDSA-SHA256 are")
        }
        let references = Array(signedInfo.dropFirst(2))
        guard references.count == 1, let reference = references.first, SignatureStructure.isDSig(reference, "Reference") else {
            throw SignatureError(.wrappedReference, "SignedInfo must hold exactly one Reference; found \(references.count) element(s)")
        }
        guard let uri = SignatureStructure.attribute(reference, "URI"), uri.isEmpty else {
            throw SignatureError(
                .wrappedReference,
                "the Reference must cover the whole document (URI=\"\"), not \(SignatureStructure.attribute(reference, "URI").map { "URI=\"\($0)\"" } ?? "a missing URI")"
            )
        }
        let referenceParts = reference.elementChildren
        guard referenceParts.count == 3, SignatureStructure.isDSig(referenceParts[0], "Transforms"),
            SignatureStructure.isDSig(referenceParts[1], "DigestMethod"), SignatureStructure.isDSig(referenceParts[2], "DigestValue")
        else {
            throw SignatureError(.signatureStructure, "the Reference must hold Transforms, DigestMethod and DigestValue")
        }
        let transforms = referenceParts[0].elementChildren.map { SignatureStructure.algorithm($0) ?? "none" }
        guard transforms == [DSig.envelopedSignature, DSig.exclusiveC14N] else {
            throw SignatureError(
                .disallowedTransform,
                "transforms must be exactly enveloped-signature then exclusive C14N; found \(transforms.joined(separator: ", "))")
        }
        guard SignatureStructure.algorithm(referenceParts[1]) == DSig.sha256 else {
            throw SignatureError(
                .weakAlgorithm, "digest \(SignatureStructure.algorithm(referenceParts[1]) ?? "none") is not allowed; only SHA-256 is")
        }

        var certificates: [Certificate] = []
        for x509Data in parts[2].elementChildren where SignatureStructure.isDSig(x509Data, "X509Data") {
            for element in x509Data.elementChildren where SignatureStructure.isDSig(element, "X509Certificate") {
                guard let certificate = KeyInfoCertificates.shared.certificate(fromBase64: SignatureStructure.text(element)) else {
                    throw SignatureError(
                        .malformedCertificate, "an X509Certificate in KeyInfo is not a DER certificate (line \(element.lineNumber))")
                }
                certificates.append(certificate)
            }
        }
        guard !certificates.isEmpty else { throw SignatureError(.malformedCertificate, "KeyInfo carries no X509Certificate") }
        self.certificates = certificates
    }

    static func isDSig(_ node: xmlNodePtr, _ name: String) -> Bool {
        node.isNamed(name, in: DSig.namespace)
    }

    static func attribute(_ node: xmlNodePtr, _ name: String) -> String? {
        guard let value = xmlGetNoNsProp(node, name) else { return nil }
        defer { koerier_xml_free(value) }
        return LibXML.string(value)
    }

    static func algorithm(_ node: xmlNodePtr) -> String? { attribute(node, "Algorithm") }

    static func text(_ node: xmlNodePtr) -> String {
        guard let content = xmlNodeGetContent(node) else { return "" }
        defer { koerier_xml_free(content) }
        return LibXML.string(content) ?? ""
    }
}
