import Foundation

/// A strict JSON parser (RFC 8259) whose work is bounded: the size is checked before a
/// byte is read, the input must be UTF-8, each byte is visited a constant number of times,
/// and nesting deeper than the limit is refused on the way down (the parser recurses once
/// per level, so the depth bound is also its stack bound). Duplicate member names are
/// refused rather than resolved: two readers must never see two different Bundles.
/// Failures are problems (never a trap) whose text names a path and a byte offset only.
struct BoundedJSONParser {
    private enum PathComponent {
        case key(String)
        case index(Int)
    }

    private let bytes: [UInt8]
    private var index: Int
    private let maxDepth: Int
    private var depth = 0
    private var path: [PathComponent] = []

    private init(bytes: [UInt8], index: Int, maxDepth: Int) {
        self.bytes = bytes
        self.index = index
        self.maxDepth = maxDepth
    }

    static func parse(_ data: Data, limits: FHIRLimits) throws(FHIRProblems) -> JSONValue {
        guard data.count <= limits.maxBytes else {
            throw FHIRProblems(
                path: "Bundle", rule: "size-limit", message: "the body is \(data.count) bytes; the limit is \(limits.maxBytes)")
        }
        guard String(validating: data, as: UTF8.self) != nil else {
            throw FHIRProblems(path: "Bundle", rule: "json-encoding", message: "the body is not valid UTF-8")
        }
        let bytes = [UInt8](data)
        // A UTF-8 byte order mark is tolerated (some senders write one); nothing else is.
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        let depth = min(max(limits.maxDepth, 1), FHIRLimits.hardMaxDepth)
        var parser = BoundedJSONParser(bytes: bytes, index: start, maxDepth: depth)
        parser.skipWhitespace()
        guard parser.index < bytes.count else {
            throw FHIRProblems(path: "Bundle", rule: "json-syntax", message: "the body is empty")
        }
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.syntax("unexpected content after the JSON value") }
        return value
    }

    // MARK: Values

    private var peek: UInt8 { index < bytes.count ? bytes[index] : 0 }

    private mutating func parseValue() throws(FHIRProblems) -> JSONValue {
        switch peek {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case 0 where index >= bytes.count: throw syntax("unexpected end of input")
        default: throw syntax("unexpected character")
        }
    }

    private mutating func enter() throws(FHIRProblems) {
        depth += 1
        guard depth <= maxDepth else {
            throw FHIRProblems(
                path: "Bundle", rule: "depth-limit",
                message: "JSON nesting is deeper than \(maxDepth) levels (at byte \(index))")
        }
        index += 1
    }

    private mutating func parseObject() throws(FHIRProblems) -> JSONValue {
        try enter()
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw syntax("expected a member name") }
            let key = try parseString()
            path.append(.key(key))
            guard members[key] == nil else {
                throw FHIRProblems(
                    path: renderedPath(), rule: "json-duplicate-key", message: "a member name occurs twice in one object")
            }
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { throw syntax("expected ':' after a member name") }
            index += 1
            skipWhitespace()
            members[key] = try parseValue()
            path.removeLast()
            skipWhitespace()
            if peek == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard peek == UInt8(ascii: "}") else { throw syntax("expected ',' or '}' in an object") }
            index += 1
            depth -= 1
            return .object(members)
        }
    }

    private mutating func parseArray() throws(FHIRProblems) -> JSONValue {
        try enter()
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            path.append(.index(elements.count))
            elements.append(try parseValue())
            path.removeLast()
            skipWhitespace()
            if peek == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard peek == UInt8(ascii: "]") else { throw syntax("expected ',' or ']' in an array") }
            index += 1
            depth -= 1
            return .array(elements)
        }
    }

    private mutating func literal(_ word: StaticString, _ value: JSONValue) throws(FHIRProblems) -> JSONValue {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count,
            word.withUTF8Buffer({ bytes[index..<(index + count)].elementsEqual($0) })
        else { throw syntax("unexpected character") }
        index += count
        return value
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, at most 64 characters.
    private mutating func parseNumber() throws(FHIRProblems) -> String {
        let start = index
        if peek == UInt8(ascii: "-") { index += 1 }
        if peek == UInt8(ascii: "0") {
            index += 1
        } else {
            guard skipDigits() > 0 else { throw syntax("invalid number") }
        }
        if peek == UInt8(ascii: ".") {
            index += 1
            guard skipDigits() > 0 else { throw syntax("invalid number") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard skipDigits() > 0 else { throw syntax("invalid number") }
        }
        guard index - start <= 64 else { throw syntax("number literal longer than 64 characters") }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func skipDigits() -> Int {
        let start = index
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
        return index - start
    }

    // MARK: Strings

    private mutating func parseString() throws(FHIRProblems) -> String {
        index += 1
        let start = index
        // Most strings hold no escape: take them as one slice of the (validated) input.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: bytes[start..<(index - 1)], as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw syntax("control character inside a string") }
            index += 1
        }
        var buffer = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: buffer, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try appendEscape(to: &buffer)
            case 0..<0x20:
                throw syntax("control character inside a string")
            default:
                buffer.append(byte)
            }
        }
        throw syntax("unterminated string")
    }

    private mutating func appendEscape(to buffer: inout [UInt8]) throws(FHIRProblems) {
        guard index < bytes.count else { throw syntax("unterminated string") }
        let escape = bytes[index]
        index += 1
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(escape)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            var unit = try hex4()
            if (0xD800...0xDBFF).contains(unit) {
                // A high surrogate must be followed at once by an escaped low surrogate.
                guard peek == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                    throw syntax("unpaired surrogate in a \\u escape")
                }
                index += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw syntax("unpaired surrogate in a \\u escape") }
                unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(unit) else { throw syntax("unpaired surrogate in a \\u escape") }
            UTF8.encode(scalar) { buffer.append($0) }
        default:
            throw syntax("invalid escape in a string")
        }
    }

    private mutating func hex4() throws(FHIRProblems) -> UInt32 {
        guard index + 4 <= bytes.count else { throw syntax("unterminated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - 0x30
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - 0x61 + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - 0x41 + 10
            default: throw syntax("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    // MARK: Helpers

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func syntax(_ message: String) -> FHIRProblems {
        FHIRProblems(path: renderedPath(), rule: "json-syntax", message: "\(message) (at byte \(index))")
    }

    /// The path to the value being read. Member names that are not plain element names
    /// are shown as `?`: a hostile sender could use a patient's name as a member name.
    private func renderedPath() -> String {
        var text = "Bundle"
        for component in path {
            switch component {
            case .key(let key): text += "." + (FHIRPath.isElementName(key) ? key : "?")
            case .index(let position): text += "[\(position)]"
            }
        }
        return text
    }
}
