import CXMLSec
import Foundation

/// An X.509 certificate (OpenSSL `X509`), owned; freed when released.
public final class Certificate: @unchecked Sendable {
    let pointer: OpaquePointer
    /// SHA-256 of the DER encoding, lowercase hex: the certificate's identity in caches.
    let fingerprint: String
    /// The UZI register's otherName in subjectAltName (see `readUZIName`), read once: a
    /// cached certificate answers every later verification without parsing it again.
    public let uziName: UZIName?

    private init(_ pointer: OpaquePointer) {
        self.pointer = pointer
        uziName = Self.readUZIName(pointer)
        var output: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509(pointer, &output)
        if length > 0, let output {
            fingerprint = ReceiptMatch.sha256Hex(Data(bytes: output, count: Int(length)))
            CRYPTO_free(output, #fileID, #line)
        } else {
            fingerprint = ""
        }
    }
    deinit { X509_free(pointer) }

    /// Shares an `X509` that OpenSSL owns elsewhere (a CMS structure's signer), taking a reference.
    convenience init(retaining pointer: OpaquePointer) {
        X509_up_ref(pointer)
        self.init(pointer)
    }

    /// Parses DER bytes (the content of a KeyInfo X509Certificate element).
    public convenience init?(der: Data) {
        let parsed: OpaquePointer? = der.withUnsafeBytes { buffer in
            guard let base = buffer.bindMemory(to: UInt8.self).baseAddress else { return nil }
            var cursor: UnsafePointer<UInt8>? = base
            return d2i_X509(nil, &cursor, buffer.count)
        }
        guard let parsed else { return nil }
        self.init(parsed)
    }

    /// Every certificate in a PEM bundle, in order.
    public static func loadPEM(_ data: Data) -> [Certificate] {
        readPEM(data) { PEM_read_bio_X509($0, nil, nil, nil) }.map(Certificate.init)
    }

    public var der: Data {
        var output: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509(pointer, &output)
        guard length > 0, let output else { return Data() }
        defer { CRYPTO_free(output, #fileID, #line) }
        return Data(bytes: output, count: Int(length))
    }

    private func nameEntry(_ name: OpaquePointer?, _ nid: Int32) -> String? {
        guard let name else { return nil }
        var buffer = [CChar](repeating: 0, count: 512)
        let length = X509_NAME_get_text_by_NID(name, nid, &buffer, Int32(buffer.count))
        guard length > 0 else { return nil }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var subjectCommonName: String? { nameEntry(X509_get_subject_name(pointer), NID_commonName) }
    public var subjectOrganisation: String? { nameEntry(X509_get_subject_name(pointer), NID_organizationName) }

    /// The subject in OpenSSL's one-line form, e.g. `/C=NL/O=Huisartsenpraktijk De Linde/CN=…`.
    public var subject: String { oneLine(X509_get_subject_name(pointer)) }

    /// The issuer in the same one-line form.
    public var issuer: String { oneLine(X509_get_issuer_name(pointer)) }

    private func oneLine(_ name: OpaquePointer?) -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        guard X509_NAME_oneline(name, &buffer, Int32(buffer.count)) != nil else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The subject serialNumber attribute as it is written (see `subjectSerialIdentifier`).
    var subjectSerialNumber: String? { nameEntry(X509_get_subject_name(pointer), NID_serialNumber) }

    public var notBefore: String { asn1Time(X509_get0_notBefore(pointer)) }
    public var notAfter: String { asn1Time(X509_get0_notAfter(pointer)) }
    /// The end of the validity period, for expiry warnings.
    public var expiresAt: Date? { ASN1Time.seconds(X509_get0_notAfter(pointer)).map { Date(timeIntervalSince1970: TimeInterval($0)) } }

    private func asn1Time(_ time: UnsafePointer<ASN1_TIME>?) -> String {
        guard let time, let bio = BIO_new(BIO_s_mem()) else { return "?" }
        defer { BIO_free(bio) }
        ASN1_TIME_print(bio, time)
        return bioString(bio)
    }

    /// -1 before the validity period, 0 within, +1 after.
    func validity(at date: Date) -> Int {
        var seconds = time_t(date.timeIntervalSince1970)
        if X509_cmp_time(X509_get0_notBefore(pointer), &seconds) > 0 { return -1 }
        if X509_cmp_time(X509_get0_notAfter(pointer), &seconds) < 0 { return 1 }
        return 0
    }

    /// Whether the certificate has a keyUsage extension that allows digitalSignature.
    var allowsDigitalSignature: Bool { allowsKeyUsage(UInt32(KU_DIGITAL_SIGNATURE)) }

    /// Whether the certificate has a keyUsage extension that allows `usage` (a KU_ flag).
    func allowsKeyUsage(_ usage: UInt32) -> Bool {
        (X509_get_extension_flags(pointer) & UInt32(EXFLAG_KUSAGE)) != 0 && (X509_get_key_usage(pointer) & usage) != 0
    }

    /// The public key's kind and strength, as far as Koerier's policy cares.
    var publicKey: (isRSA: Bool, isP256: Bool, bits: Int) {
        guard let key = X509_get0_pubkey(pointer) else { return (false, false, 0) }
        let bits = Int(EVP_PKEY_get_bits(key))
        let type = EVP_PKEY_get_base_id(key)
        var group = [CChar](repeating: 0, count: 64)
        var length = 0
        let isEC = type == EVP_PKEY_EC && EVP_PKEY_get_group_name(key, &group, group.count, &length) == 1
        let groupName = String(decoding: group.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (type == EVP_PKEY_RSA, isEC && groupName == "prime256v1", bits)
    }
}

/// Reads every PEM object of one kind from a buffer.
func readPEM(_ data: Data, _ read: (OpaquePointer) -> OpaquePointer?) -> [OpaquePointer] {
    data.withUnsafeBytes { buffer -> [OpaquePointer] in
        guard let base = buffer.baseAddress, let bio = BIO_new_mem_buf(base, Int32(buffer.count)) else { return [] }
        defer { BIO_free(bio) }
        var objects: [OpaquePointer] = []
        while let object = read(bio) { objects.append(object) }
        ERR_clear_error()  // the read that ends the loop leaves a "no start line" error behind
        return objects
    }
}

func bioString(_ bio: OpaquePointer) -> String {
    var pointer: UnsafeMutablePointer<CChar>?
    let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &pointer)
    guard length > 0, let pointer else { return "" }
    return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
}
