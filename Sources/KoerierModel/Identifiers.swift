import Foundation

/// A value that failed its format or check-digit rule. `rule` is a short stable name
/// (shown to ops and used in tests), `message` says what is wrong without echoing the
/// value itself when that value is patient data.
public struct FieldFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    public let rule: String
    public let message: String
    public init(rule: String, message: String) {
        self.rule = rule
        self.message = message
    }
    public var description: String { message }
}

private func isDigits(_ text: String, count: Int) -> Bool {
    text.utf8.count == count && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
}

/// Burgerservicenummer: nine digits that pass the elfproef
/// (9·d1 + 8·d2 + … + 2·d8 − 1·d9 ≡ 0 mod 11).
public struct BSN: Hashable, Sendable, CustomStringConvertible {
    public let digits: String

    public init(_ text: String) throws {
        guard isDigits(text, count: 9) else {
            throw FieldFormatError(rule: "bsn-format", message: "BSN must be exactly 9 digits")
        }
        guard BSN.passesElfproef(text) else {
            throw FieldFormatError(rule: "bsn-elfproef", message: "BSN fails the elfproef (11-test)")
        }
        digits = text
    }

    public static func passesElfproef(_ nineDigits: String) -> Bool {
        let values = nineDigits.utf8.map { Int($0) - 0x30 }
        guard values.count == 9 else { return false }
        var sum = 0
        for index in 0..<8 { sum += (9 - index) * values[index] }
        sum -= values[8]
        return sum % 11 == 0
    }

    /// Never print a BSN by accident (logs, error messages): use `digits` on purpose.
    public var description: String { "BSN(***)" }
}

/// AGB code (Algemeen GegevensBeheer), the Dutch care-provider code: 8 digits.
public struct AGBCode: Hashable, Sendable, CustomStringConvertible {
    public let value: String
    public init(_ text: String) throws {
        guard isDigits(text, count: 8) else {
            throw FieldFormatError(rule: "agb-format", message: "AGB code must be exactly 8 digits")
        }
        value = text
    }
    public var description: String { value }
}

/// URA: the organisation number in UZI certificates: 8 digits.
public struct URANumber: Hashable, Sendable, CustomStringConvertible {
    public let value: String
    public init(_ text: String) throws {
        guard isDigits(text, count: 8) else {
            throw FieldFormatError(rule: "ura-format", message: "URA number must be exactly 8 digits")
        }
        value = text
    }
    public var description: String { value }
}

/// A message id: a lower-case UUID, unique per document and never reused.
public struct MessageID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let value: String

    public init(_ text: String) throws {
        guard MessageID.isLowerCaseUUID(text) else {
            throw FieldFormatError(rule: "uuid-format", message: "message id must be a lower-case UUID (8-4-4-4-12 hex digits)")
        }
        value = text
    }

    public init(_ uuid: UUID) {
        value = uuid.uuidString.lowercased()
    }

    public static func generate() -> MessageID { MessageID(UUID()) }

    /// 8-4-4-4-12 lower-case hex digits. Checked byte by byte: going through Foundation's
    /// UUID parser and `lowercased()` cost more than the rest of the envelope.
    static func isLowerCaseUUID(_ text: String) -> Bool {
        var count = 0
        for byte in text.utf8 {
            let isDash = count == 8 || count == 13 || count == 18 || count == 23
            if isDash ? byte != 0x2D : !((byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)) { return false }
            count += 1
            if count > 36 { return false }
        }
        return count == 36
    }

    public var description: String { value }
    public static func < (lhs: MessageID, rhs: MessageID) -> Bool { lhs.value < rhs.value }
}

/// The transaction number shared by all messages of one trajectory (ZorgDomein style,
/// `ZD` + digits): 2–4 capitals followed by 6–20 digits.
public struct TransactionID: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    public init(_ text: String) throws {
        let bytes = Array(text.utf8)
        let letters = bytes.prefix { $0 >= 0x41 && $0 <= 0x5A }.count
        let digits = bytes.dropFirst(letters)
        guard (2...4).contains(letters), (6...20).contains(digits.count),
            digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else {
            throw FieldFormatError(
                rule: "transaction-id-format",
                message: "transaction id must be 2-4 capitals followed by 6-20 digits (e.g. ZD20261120001)")
        }
        value = text
    }
    public var description: String { value }
}
