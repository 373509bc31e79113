import CXMLSec
import Foundation

/// The identity the UZI register puts in a certificate's subjectAltName: an otherName whose
/// type-id is 2.5.5.5 and whose value is an IA5String of seven dash-separated fields,
/// `<OID CA>-<versie-nr>-<UZI-nr>-<pastype>-<Abonnee-nr>-<rol>-<AGB-code>`, e.g.
/// `2.16.528.1.1003.1.3.5.5.2-1-12345678-S-90000123-00.000-00000000`. Read strictly: a
/// value that does not have exactly this form names nobody.
public struct UZIName: Sendable, Equatable {
    /// The otherName type-id the UZI register uses.
    public static let typeID = "2.5.5.5"

    /// The UZI register's CA arc: an issuer OID outside it names nobody (any other CA that
    /// some anchor trusts could otherwise write any URA into its certificates).
    public static let registerArc = "2.16.528.1.1003.1.3.5"

    /// The OID of the issuing UZI CA (dot-separated arcs).
    public let issuerOID: String
    public let version: String
    /// The certificate holder's UZI number.
    public let uziNumber: String
    /// Z (zorgverlenerpas), N (named employee), M (unnamed employee) or S (server certificate).
    public let cardType: String
    /// The Abonnee-nr: for a server certificate, the organisation's URA.
    public let subscriberNumber: String
    /// The role code, two digits, a dot, three digits (`00.000` for a server certificate).
    public let role: String
    /// The AGB code; nil when the certificate carries none (`00000000`).
    public let agb: String?

    public init?(_ text: String) {
        let fields = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 7 else { return nil }
        let arcs = fields[0].split(separator: ".", omittingEmptySubsequences: false)
        guard arcs.count >= 2, arcs.allSatisfy({ Self.isDigits($0, count: nil) }) else { return nil }
        guard fields[0] == Self.registerArc || fields[0].hasPrefix(Self.registerArc + ".") else { return nil }
        guard Self.isDigits(fields[1], count: nil), fields[1].count <= 4 else { return nil }
        guard Self.isDigits(fields[2], count: nil), fields[2].count <= 12 else { return nil }
        guard ["Z", "N", "M", "S"].contains(fields[3]) else { return nil }
        guard Self.isDigits(fields[4], count: 8) else { return nil }
        let role = fields[5].split(separator: ".", omittingEmptySubsequences: false)
        guard role.count == 2, Self.isDigits(role[0], count: 2), Self.isDigits(role[1], count: 3) else { return nil }
        guard Self.isDigits(fields[6], count: 8) else { return nil }
        issuerOID = fields[0]
        version = fields[1]
        uziNumber = fields[2]
        cardType = fields[3]
        subscriberNumber = fields[4]
        self.role = fields[5]
        agb = fields[6] == "00000000" ? nil : fields[6]
    }

    /// The organisation's URA, as a server certificate (pastype S) names it; nil otherwise:
    /// a gateway signs and authenticates with a server certificate, not a personal card.
    public var serverURA: String? { cardType == "S" ? subscriberNumber : nil }

    /// ASCII digits only, non-empty, and exactly `count` of them when given.
    private static func isDigits<S: StringProtocol>(_ text: S, count: Int?) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { (0x30...0x39).contains($0) } && (count.map { text.utf8.count == $0 } ?? true)
    }
}

/// Which certificate contents may name a party. Outside test mode only the UZI register's
/// subjectAltName otherName does; the TEST ONLY conventions (the subject serialNumber
/// `URA 90000123`, and matching parties by organisation name when a certificate names no
/// identifier) are honoured only when `test_mode` is on.
public struct IdentityPolicy: Sendable, Equatable {
    public let allowsTestIdentities: Bool

    public init(testMode: Bool) { allowsTestIdentities = testMode }

    /// Production: the UZI otherName only.
    public static let uziOnly = IdentityPolicy(testMode: false)
    /// TEST ONLY: also the subject serialNumber, and organisation names.
    public static let testMode = IdentityPolicy(testMode: true)
}

extension Certificate {
    /// The UZI register's otherName (type-id 2.5.5.5) in subjectAltName; nil when there is
    /// none, when its value is not an IA5String of the register's form, or when there is
    /// more than one (a certificate that names two parties names none).
    static func readUZIName(_ pointer: OpaquePointer) -> UZIName? {
        var critical: Int32 = 0
        guard let names = X509_get_ext_d2i(pointer, NID_subject_alt_name, &critical, nil) else {
            ERR_clear_error()
            return nil
        }
        let stack = OpaquePointer(names)
        defer { GENERAL_NAMES_free(stack) }
        var found: [UZIName?] = []
        for index in 0..<OPENSSL_sk_num(stack) {
            guard let raw = OPENSSL_sk_value(stack, index) else { continue }
            let name = raw.assumingMemoryBound(to: GENERAL_NAME.self)
            guard name.pointee.type == GEN_OTHERNAME, let other = name.pointee.d.otherName else { continue }
            guard Self.objectText(other.pointee.type_id) == UZIName.typeID else { continue }
            guard let value = other.pointee.value, value.pointee.type == V_ASN1_IA5STRING, let string = value.pointee.value.ia5string,
                let bytes = ASN1_STRING_get0_data(string)
            else {
                found.append(nil)
                continue
            }
            let text = String(decoding: UnsafeBufferPointer(start: bytes, count: Int(ASN1_STRING_length(string))), as: UTF8.self)
            found.append(UZIName(text))
        }
        guard found.count == 1, let only = found[0] else { return nil }
        return only
    }

    /// The dotted form of an OID (never its short name).
    static func objectText(_ object: OpaquePointer?) -> String? {
        guard let object else { return nil }
        var buffer = [CChar](repeating: 0, count: 128)
        let length = OBJ_obj2txt(&buffer, Int32(buffer.count), object, 1)
        guard length > 0, Int(length) < buffer.count else { return nil }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The care identifier this certificate proves under `policy`: the URA of a UZI server
    /// certificate's otherName; in test mode only, failing that, the subject serialNumber
    /// `URA 90000123` / `AGB 01012345` (Koerier's TEST ONLY convention).
    public func careIdentifier(_ policy: IdentityPolicy) -> (kind: String, value: String)? {
        if let ura = uziName?.serverURA { return ("URA", ura) }
        guard policy.allowsTestIdentities else { return nil }
        return subjectSerialIdentifier
    }

    /// The TEST ONLY convention: `URA 90000123` or `AGB 01012345` in the subject serialNumber.
    public var subjectSerialIdentifier: (kind: String, value: String)? {
        guard let serial = subjectSerialNumber else { return nil }
        let parts = serial.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0] == "URA" || parts[0] == "AGB" else { return nil }
        return (parts[0], parts[1])
    }
}
