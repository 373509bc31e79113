import Foundation

/// An ICPC-1 code (chapter letter, two digits, optional NHG subdivision) with its label.
public struct IcpcCode: Hashable, Sendable {
    public let code: String
    public var label: String

    public init(code: String, label: String) throws {
        let bytes = Array(code.utf8)
        let chapters = Set("ABDFHKLNPRSTUWXYZ".utf8)
        let isDigit: (UInt8) -> Bool = { $0 >= 0x30 && $0 <= 0x39 }
        let valid =
            (bytes.count == 3 || (bytes.count == 6 && bytes[3] == 0x2E && isDigit(bytes[4]) && isDigit(bytes[5])))
            && chapters.contains(bytes[0]) && isDigit(bytes[1]) && isDigit(bytes[2])
        guard valid else {
            throw FieldFormatError(
                rule: "icpc-format", message: "ICPC code must be a chapter letter and two digits, optionally .NN (e.g. P78)")
        }
        self.code = code
        self.label = label
    }
}

/// Value ranges of the instruments (DOMAIN.md); the schemas enforce the same bounds.
public enum InstrumentRange {
    public static let fourDKLDistress = 0...32
    public static let fourDKLDepressie = 0...12
    public static let fourDKLAngst = 0...24
    public static let fourDKLSomatisatie = 0...32
    public static let phq9Total = 0...27
    public static let positiveHealthDimension = 0...10
}

/// Vierdimensionale Klachtenlijst.
public struct FourDKL: Hashable, Sendable {
    public var measuredOn: CalendarDate
    public var distress: Int
    public var depressie: Int
    public var angst: Int
    public var somatisatie: Int

    public init(measuredOn: CalendarDate, distress: Int, depressie: Int, angst: Int, somatisatie: Int) {
        self.measuredOn = measuredOn
        self.distress = distress
        self.depressie = depressie
        self.angst = angst
        self.somatisatie = somatisatie
    }
}

public struct PHQ9: Hashable, Sendable {
    public var measuredOn: CalendarDate
    public var total: Int

    public init(measuredOn: CalendarDate, total: Int) {
        self.measuredOn = measuredOn
        self.total = total
    }
}

/// Spinnenweb Positieve Gezondheid: six dimensions scored 0–10.
public struct PositiveHealth: Hashable, Sendable {
    public var measuredOn: CalendarDate
    public var lichaamsfuncties: Int
    public var mentaalWelbevinden: Int
    public var zingeving: Int
    public var kwaliteitVanLeven: Int
    public var meedoen: Int
    public var dagelijksFunctioneren: Int

    public init(
        measuredOn: CalendarDate, lichaamsfuncties: Int, mentaalWelbevinden: Int, zingeving: Int,
        kwaliteitVanLeven: Int, meedoen: Int, dagelijksFunctioneren: Int
    ) {
        self.measuredOn = measuredOn
        self.lichaamsfuncties = lichaamsfuncties
        self.mentaalWelbevinden = mentaalWelbevinden
        self.zingeving = zingeving
        self.kwaliteitVanLeven = kwaliteitVanLeven
        self.meedoen = meedoen
        self.dagelijksFunctioneren = dagelijksFunctioneren
    }
}

public enum AttachmentMimeType: String, CaseIterable, Sendable {
    case pdf = "application/pdf"
    case png = "image/png"
    case jpeg = "image/jpeg"
    case plainText = "text/plain"
}

public struct Attachment: Hashable, Sendable {
    /// Decoded size cap, the same as the schema's.
    public static let maxBytes = 5 * 1024 * 1024

    public var mimeType: AttachmentMimeType
    public var fileName: String
    /// The size the sender declared; a rule checks it against `data`.
    public var declaredSize: Int
    public var data: Data

    public init(mimeType: AttachmentMimeType, fileName: String, data: Data, declaredSize: Int? = nil) {
        self.mimeType = mimeType
        self.fileName = fileName
        self.data = data
        self.declaredSize = declaredSize ?? data.count
    }
}
