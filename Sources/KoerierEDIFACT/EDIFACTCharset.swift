import Foundation

/// The character sets a MEDVRI interchange may declare in UNB. Both are single-byte, so one
/// character is one byte and "70 characters" is 70 bytes.
public enum EDIFACTCharset: String, Sendable, CaseIterable {
    /// ISO 9735 level A: capitals, digits, space and `. , - ( ) / = ' + : ? ! " % & * ; < >`.
    case unoa = "UNOA"
    /// ISO 8859-1 (Latin-1), written as Latin-1 bytes.
    case unoc = "UNOC"

    /// Whether `byte` belongs to the repertoire. Line breaks do not: the writer puts them only
    /// between segments, where the reader skips them.
    public func permits(_ byte: UInt8) -> Bool {
        switch self {
        case .unoa:
            return (0x41...0x5A).contains(byte) || (0x30...0x39).contains(byte) || levelAPunctuation.contains(byte)
        case .unoc:
            // The graphic characters of Latin-1; C0 and C1 controls and DEL are not text.
            return (0x20...0x7E).contains(byte) || (0xA0...0xFF).contains(byte)
        }
    }

    /// `text` in this repertoire: UNOA upper-cases and drops diacritics (ë → E); both replace
    /// typographic characters with their plain forms (– → -, • → *, ’ → ') and anything left
    /// over by a space (white space) or `.`, so a letter never becomes unwritable.
    public func transliterate(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        for scalar in text.precomposedStringWithCanonicalMapping.unicodeScalars {
            append(scalar, to: &result)
        }
        return String(result)
    }

    /// The scalar itself when it fits (UNOA: after upper-casing a–z), else nil.
    func fitted(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        let value = scalar.value
        guard value <= 0xFF else { return nil }
        if self == .unoa, (0x61...0x7A).contains(value) { return Unicode.Scalar(UInt8(value - 0x20)) }
        // NBSP and the soft hyphen are Latin-1, but a record system shows them as a plain
        // space and nothing; writing them would only confuse a reader.
        guard value != 0xA0, value != 0xAD else { return nil }
        return permits(UInt8(value)) ? scalar : nil
    }

    private func append(_ scalar: Unicode.Scalar, to result: inout String.UnicodeScalarView) {
        if let fitted = fitted(scalar) {
            result.append(fitted)
        } else if let replacement = transliterations[scalar] {
            for part in replacement.unicodeScalars { result.append(fitted(part) ?? ".") }
        } else if let bases = baseLetters(scalar) {
            result.append(contentsOf: bases)
        } else if isMark(scalar) {
            return
        } else {
            result.append(scalar.properties.isWhitespace ? " " : ".")
        }
    }

    /// é → e: the canonical decomposition without its combining marks, when all of it fits.
    private func baseLetters(_ scalar: Unicode.Scalar) -> [Unicode.Scalar]? {
        let parts = String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars
        guard parts.count > 1 else { return nil }
        let bases = parts.filter { !isMark($0) }.map(fitted)
        guard !bases.isEmpty, bases.allSatisfy({ $0 != nil }) else { return nil }
        return bases.compactMap { $0 }
    }

    private func isMark(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }
}

private let levelAPunctuation: Set<UInt8> = Set(" .,-()/='+:?!\"%&*;<>".utf8)

/// Plain forms of characters that do not decompose into letters. Applied only to what the
/// declared set cannot hold, so UNOC keeps «, ß and æ while UNOA spells them out.
private let transliterations: [Unicode.Scalar: String] = [
    "\u{2010}": "-", "\u{2011}": "-", "\u{2012}": "-", "\u{2013}": "-", "\u{2014}": "-", "\u{2015}": "-", "\u{2212}": "-",
    "\u{2022}": "*", "\u{00B7}": "*", "\u{2023}": "*", "\u{25CF}": "*",
    "\u{2018}": "'", "\u{2019}": "'", "\u{201A}": "'", "\u{2032}": "'", "`": "'", "\u{00B4}": "'",
    "\u{201C}": "\"", "\u{201D}": "\"", "\u{201E}": "\"", "\u{2033}": "\"", "\u{00AB}": "\"", "\u{00BB}": "\"",
    "\u{2026}": "...", "\u{20AC}": "EUR", "\u{00D7}": "x", "\u{00AD}": "",
    "\u{00DF}": "ss", "\u{00E6}": "ae", "\u{00C6}": "AE", "\u{0153}": "oe", "\u{0152}": "OE",
    "\u{00F8}": "o", "\u{00D8}": "O", "\u{0142}": "l", "\u{0141}": "L", "\u{0111}": "d", "\u{0110}": "D",
    "\u{00F0}": "d", "\u{00D0}": "D", "\u{00FE}": "th", "\u{00DE}": "TH", "\u{0131}": "i",
    "[": "(", "]": ")", "{": "(", "}": ")", "\\": "/", "_": "-", "|": "/", "~": "-",
]
