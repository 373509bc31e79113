/// One linear pass over a message's bytes before libxml2 sees them. libxml2 2.9 compares
/// each attribute with every earlier one of its element (quadratic: 200,000 attributes on
/// one element took minutes) and stops at a NUL byte as if the document ended there, so
/// that bytes after it were stored without ever being parsed. This pass refuses both, and
/// bounds names and texts, in work proportional to the input. It does not judge
/// well-formedness: where the markup is malformed it stops and leaves the error to libxml2,
/// which stops at the first fatal error, so every byte libxml2 parses has been scanned.
struct MarkupScan {
    let limits: XMLLimits

    func check(_ bytes: UnsafeRawBufferPointer) throws(XMLProblems) {
        var cursor = Cursor(bytes: bytes)
        var totalAttributes = 0
        while let byte = try cursor.peek() {
            if byte != UInt8(ascii: "<") {
                let length = try cursor.skip(until: UInt8(ascii: "<"))
                try bound(length, limits.maxTextBytes, rule: "text-limit", "a text is longer than \(limits.maxTextBytes) bytes", at: cursor)
                continue
            }
            if cursor.startsWith("<!--") {
                guard try cursor.skip(past: "-->") else { return }
            } else if cursor.startsWith("<![CDATA[") {
                let start = cursor.offset
                guard try cursor.skip(past: "]]>") else { return }
                try bound(
                    cursor.offset - start, limits.maxTextBytes, rule: "text-limit",
                    "a CDATA section is longer than \(limits.maxTextBytes) bytes", at: cursor)
            } else if cursor.startsWith("<?") {
                guard try cursor.skip(past: "?>") else { return }
            } else if cursor.startsWith("<!") {
                return  // a DOCTYPE: the parser refuses it before reading its declarations
            } else if cursor.startsWith("</") {
                cursor.advance(2)
                try name(&cursor)
                guard try cursor.skip(past: ">") else { return }
            } else {
                cursor.advance(1)
                guard try name(&cursor) else { return }
                guard let attributes = try startTagAttributes(&cursor) else { return }
                totalAttributes += attributes
                try bound(
                    totalAttributes, limits.maxTotalAttributes, rule: "attribute-limit",
                    "the message has more than \(limits.maxTotalAttributes) attributes", at: cursor)
            }
        }
    }

    /// The attributes of a start tag whose name was just read, up to and including its `>`;
    /// nil where the tag is malformed (libxml2 reports it).
    private func startTagAttributes(_ cursor: inout Cursor) throws(XMLProblems) -> Int? {
        var count = 0
        while true {
            cursor.skipWhiteSpace()
            guard let byte = try cursor.peek() else { return nil }
            if byte == UInt8(ascii: ">") {
                cursor.advance(1)
                return count
            }
            if cursor.startsWith("/>") {
                cursor.advance(2)
                return count
            }
            guard try name(&cursor) else { return nil }
            cursor.skipWhiteSpace()
            guard try cursor.peek() == UInt8(ascii: "=") else { return nil }
            cursor.advance(1)
            cursor.skipWhiteSpace()
            guard let quote = try cursor.peek(), quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { return nil }
            cursor.advance(1)
            let length = try cursor.skip(until: quote)
            guard try cursor.peek() == quote else { return nil }
            cursor.advance(1)
            try bound(
                length, limits.maxTextBytes, rule: "text-limit", "an attribute value is longer than \(limits.maxTextBytes) bytes",
                at: cursor)
            count += 1
            try bound(
                count, limits.maxAttributesPerElement, rule: "attribute-limit",
                "an element has more than \(limits.maxAttributesPerElement) attributes", at: cursor)
        }
    }

    /// Reads a name (any bytes up to white space, `=`, `/`, `>` or `<`); false if empty.
    @discardableResult
    private func name(_ cursor: inout Cursor) throws(XMLProblems) -> Bool {
        let start = cursor.offset
        while let byte = try cursor.peek(), !Cursor.endsName(byte) { cursor.advance(1) }
        let length = cursor.offset - start
        try bound(length, limits.maxNameBytes, rule: "name-limit", "a name is longer than \(limits.maxNameBytes) bytes", at: cursor)
        return length > 0
    }

    private func bound(_ value: Int, _ limit: Int, rule: String, _ message: String, at cursor: Cursor) throws(XMLProblems) {
        if value > limit { throw XMLProblems([XMLProblem(line: cursor.line, rule: rule, message: message)]) }
    }
}

/// A position in the bytes with its line number; every read refuses a NUL byte.
private struct Cursor {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0
    private(set) var line = 1

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func peek() throws(XMLProblems) -> UInt8? {
        guard offset < bytes.count else { return nil }
        let byte = bytes[offset]
        if byte == 0 {
            throw XMLProblems([
                XMLProblem(line: line, rule: "nul-byte", message: "a NUL byte at offset \(offset): XML allows no NUL character")
            ])
        }
        return byte
    }

    mutating func advance(_ count: Int) {
        for _ in 0..<count where offset < bytes.count {
            if bytes[offset] == UInt8(ascii: "\n") { line += 1 }
            offset += 1
        }
    }

    func startsWith(_ text: StaticString) -> Bool {
        let length = text.utf8CodeUnitCount
        guard offset + length <= bytes.count else { return false }
        let pattern = UnsafeRawBufferPointer(start: text.utf8Start, count: length)
        for index in 0..<length where bytes[offset + index] != pattern[index] { return false }
        return true
    }

    /// Moves to the next `stop` (or the end); the number of bytes passed.
    mutating func skip(until stop: UInt8) throws(XMLProblems) -> Int {
        let start = offset
        while let byte = try peek(), byte != stop { advance(1) }
        return offset - start
    }

    /// Moves past the next `text`; false if the bytes end first.
    mutating func skip(past text: StaticString) throws(XMLProblems) -> Bool {
        while try peek() != nil {
            if startsWith(text) {
                advance(text.utf8CodeUnitCount)
                return true
            }
            advance(1)
        }
        return false
    }

    mutating func skipWhiteSpace() {
        while offset < bytes.count, Cursor.isWhiteSpace(bytes[offset]) { advance(1) }
    }

    static func isWhiteSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    static func endsName(_ byte: UInt8) -> Bool {
        isWhiteSpace(byte) || byte == UInt8(ascii: "=") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: ">")
            || byte == UInt8(ascii: "<")
    }
}
