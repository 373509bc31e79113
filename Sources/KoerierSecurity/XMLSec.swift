import CXMLSec

/// Process-wide libxmlsec1 set-up (OpenSSL back end), done once before first use.
enum XMLSec {
    /// xmlSecInit, xmlSecOpenSSLAppInit and xmlSecOpenSSLInit return 0 on success.
    static let ready: Bool = {
        guard xmlSecInit() == 0, xmlSecOpenSSLAppInit(nil) == 0, xmlSecOpenSSLInit() == 0 else { return false }
        // xmlsec prints its errors to stderr by default; Koerier reports its own, precise ones.
        xmlSecErrorsSetCallback { _, _, _, _, _, _, _ in }
        return true
    }()

    static func requireReady() throws(SignatureError) {
        guard ready else { throw SignatureError(.internalFailure, "libxmlsec1 could not be initialised") }
    }
}

/// The XML Signature algorithm identifiers Koerier writes and accepts.
enum DSig {
    static let namespace = "http://www.w3.org/2000/09/xmldsig#"
    static let exclusiveC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
    static let envelopedSignature = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    static let sha256 = "http://www.w3.org/2001/04/xmlenc#sha256"
    static let rsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    static let ecdsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
}

/// The signature algorithms Koerier signs with.
public enum SignatureAlgorithm: String, Sendable {
    case rsaSHA256 = "RSA-SHA256"
    case ecdsaP256SHA256 = "ECDSA-P256-SHA256"

    var uri: String { self == .rsaSHA256 ? DSig.rsaSHA256 : DSig.ecdsaSHA256 }
}
