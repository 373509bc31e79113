import Foundation

/// One linear pass over a message's bytes before libxml2 sees them. libxml2 2.9 compares
/// each attribute with every earlier one of its element (quadratic: 200,000 attributes on
/// one element took minutes) and stops at a NUL byte as if the document ended there, so
/// that bytes after it were stored without ever being parsed. This pass refuses both, and
/// bounds names and texts, in work proportional to the input (memchr does the long runs).
/// It does not judge well-formedness: where the markup is malformed it stops
/// and leaves the error to libxml2, which stops at the first fatal error, so every byte
/// libxml2 parses has been scanned.
struct MarkupScan {
    let limits: XMLLimits

    func check(_ buffer: UnsafeRawBufferPointer) throws(XMLProblems) {
        guard let start = buffer.baseAddress else { return }
        let bytes = Bytes(start: start.assumingMemoryBound(to: UInt8.self), count: buffer.count)
        if let nul = bytes.find(0, from: 0) {
            throw bytes.problem(at: nul, "nul-byte", "a NUL byte at offset \(nul): XML allows no NUL character")
        }
        var totalAttributes = 0
        var at = 0
        while at < bytes.count {
            guard bytes[at] == Bytes.lessThan else {
                let next = bytes.find(Bytes.lessThan, from: at) ?? bytes.count
                try bound(next - at, limits.maxTextBytes, "text-limit", "a text is longer than \(limits.maxTextBytes) bytes", bytes, at)
                at = next
                continue
            }
            if bytes.has("<!--", at: at) {
                guard let end = bytes.find("-->", from: at + 4) else { return }
                at = end + 3
            } else if bytes.has("<![CDATA[", at: at) {
                guard let end = bytes.find("]]>", from: at + 9) else { return }
                try bound(
                    end - at - 9, limits.maxTextBytes, "text-limit", "a CDATA section is longer than \(limits.maxTextBytes) bytes", bytes,
                    at)
                at = end + 3
            } else if bytes.has("<?", at: at) {
                guard let end = bytes.find("?>", from: at + 2) else { return }
                at = end + 2
            } else if bytes.has("<!", at: at) {
                return  // a DOCTYPE: the parser refuses it before reading its declarations
            } else if bytes.has("</", at: at) {
                at = try name(bytes, from: at + 2)
                guard let end = bytes.find(Bytes.greaterThan, from: at) else { return }
                at = end + 1
            } else {
                let afterName = try name(bytes, from: at + 1)
                guard afterName > at + 1, let (end, attributes) = try startTagAttributes(bytes, from: afterName) else { return }
                totalAttributes += attributes
                try bound(
                    totalAttributes, limits.maxTotalAttributes, "attribute-limit",
                    "the message has more than \(limits.maxTotalAttributes) attributes", bytes, at)
                at = end
            }
        }
    }

    /// The attributes of a start tag whose name ends at `from`; the offset after its `>`.
    /// nil where the tag is malformed (libxml2 reports it).
    private func startTagAttributes(_ bytes: Bytes, from: Int) throws(XMLProblems) -> (end: Int, attributes: Int)? {
        var at = from
        var count = 0
        while true {
            at = bytes.skipWhiteSpace(from: at)
            guard at < bytes.count else { return nil }
            if bytes[at] == Bytes.greaterThan { return (at + 1, count) }
            if bytes.has("/>", at: at) { return (at + 2, count) }
            let afterName = try name(bytes, from: at)
            guard afterName > at else { return nil }
            at = bytes.skipWhiteSpace(from: afterName)
            guard at < bytes.count, bytes[at] == Bytes.equals else { return nil }
            at = bytes.skipWhiteSpace(from: at + 1)
            guard at < bytes.count, bytes[at] == Bytes.quote || bytes[at] == Bytes.apostrophe,
                let close = bytes.find(bytes[at], from: at + 1)
            else { return nil }
            try bound(
                close - at - 1, limits.maxTextBytes, "text-limit", "an attribute value is longer than \(limits.maxTextBytes) bytes", bytes,
                at)
            at = close + 1
            count += 1
            try bound(
                count, limits.maxAttributesPerElement, "attribute-limit",
                "an element has more than \(limits.maxAttributesPerElement) attributes", bytes, at)
        }
    }

    /// Reads a name (any bytes up to white space, `=`, `/`, `>` or `<`); the offset after it.
    private func name(_ bytes: Bytes, from: Int) throws(XMLProblems) -> Int {
        var at = from
        while at < bytes.count, !Bytes.endsName(bytes[at]) { at += 1 }
        try bound(at - from, limits.maxNameBytes, "name-limit", "a name is longer than \(limits.maxNameBytes) bytes", bytes, from)
        return at
    }

    /// `message` is built only for a refusal: building it for every name and text was most
    /// of the scan's cost.
    private func bound(
        _ value: Int, _ limit: Int, _ rule: String, _ message: @autoclosure () -> String, _ bytes: Bytes, _ at: Int
    ) throws(XMLProblems) {
        if value > limit { throw bytes.problem(at: at, rule, message()) }
    }
}

/// The message's bytes, searched with the C library.
private struct Bytes {
    let start: UnsafePointer<UInt8>
    let count: Int

    static let lessThan = UInt8(ascii: "<")
    static let greaterThan = UInt8(ascii: ">")
    static let equals = UInt8(ascii: "=")
    static let quote = UInt8(ascii: "\"")
    static let apostrophe = UInt8(ascii: "'")

    subscript(_ index: Int) -> UInt8 { start[index] }

    func find(_ byte: UInt8, from: Int) -> Int? {
        guard from < count, let found = memchr(start + from, Int32(byte), count - from) else { return nil }
        return UnsafeRawPointer(found) - UnsafeRawPointer(start)
    }

    /// The next `text` (a few bytes: its first byte found with memchr, the rest compared).
    func find(_ text: StaticString, from: Int) -> Int? {
        var at = from
        while let candidate = find(text.utf8Start[0], from: at) {
            if has(text, at: candidate) { return candidate }
            at = candidate + 1
        }
        return nil
    }

    func has(_ text: StaticString, at offset: Int) -> Bool {
        let length = text.utf8CodeUnitCount
        return offset + length <= count && memcmp(start + offset, text.utf8Start, length) == 0
    }

    func skipWhiteSpace(from: Int) -> Int {
        var at = from
        while at < count, Self.isWhiteSpace(start[at]) { at += 1 }
        return at
    }

    /// The problem at `offset`, with its line (counted only now, when there is one to report).
    func problem(at offset: Int, _ rule: String, _ message: String) -> XMLProblems {
        var line = 1
        var at = 0
        while at < offset, let newline = find(UInt8(ascii: "\n"), from: at), newline < offset {
            line += 1
            at = newline + 1
        }
        return XMLProblems([XMLProblem(line: line, rule: rule, message: message)])
    }

    static func isWhiteSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    static func endsName(_ byte: UInt8) -> Bool {
        isWhiteSpace(byte) || byte == equals || byte == UInt8(ascii: "/") || byte == greaterThan || byte == lessThan
    }
}
