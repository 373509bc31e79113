import KoerierRender

/// FHIR narratives (`text.div`, XHTML) in both directions.
enum Narrative {
    // MARK: Reading

    /// Elements that end a line of text when read back.
    private static let blockElements: Set<String> = [
        "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote", "pre",
    ]

    /// The text content of an XHTML narrative: tags dropped (block elements become line
    /// breaks), white space collapsed, and only the XML entities (`&amp;` `&lt;` `&gt;`
    /// `&quot;` `&#39;` and decimal `&#NNN;`) decoded; anything else stays as written.
    /// One linear pass, no markup is interpreted, nothing is fetched or expanded. Returns
    /// nil as soon as the text exceeds `limit` characters (Unicode scalars).
    static func plainText(_ xhtml: String, limit: Int) -> String? {
        let scalars = Array(xhtml.unicodeScalars)
        var output = String.UnicodeScalarView()
        var count = 0
        var pendingSpace = false
        var pendingBreak = false
        var index = 0

        func emit(_ scalar: Unicode.Scalar) -> Bool {
            if !output.isEmpty {
                if pendingBreak {
                    output.append("\n")
                } else if pendingSpace {
                    output.append(" ")
                }
            }
            pendingSpace = false
            pendingBreak = false
            output.append(scalar)
            count += 1
            return count <= limit
        }

        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "<":
                if matches(scalars, at: index, "<!--") {
                    index = skipComment(scalars, from: index + 4)
                    continue
                }
                let (name, end) = tag(scalars, from: index + 1)
                if blockElements.contains(name) { pendingBreak = true }
                index = end
                continue
            case "&":
                if let (decoded, end) = entity(scalars, from: index) {
                    guard emit(decoded) else { return nil }
                    index = end
                    continue
                }
                guard emit(scalar) else { return nil }
            case " ", "\t", "\n", "\r":
                pendingSpace = true
            default:
                guard emit(scalar) else { return nil }
            }
            index += 1
        }
        return String(output)
    }

    private static func matches(_ scalars: [Unicode.Scalar], at index: Int, _ literal: String) -> Bool {
        var position = index
        for expected in literal.unicodeScalars {
            guard position < scalars.count, scalars[position] == expected else { return false }
            position += 1
        }
        return true
    }

    /// The index after `-->`, or the end of the input.
    private static func skipComment(_ scalars: [Unicode.Scalar], from start: Int) -> Int {
        var index = start
        while index < scalars.count {
            if scalars[index] == "-", matches(scalars, at: index, "-->") { return index + 3 }
            index += 1
        }
        return scalars.count
    }

    /// The lower-cased element name of a tag and the index after its `>`; quoted
    /// attribute values may hold `>`.
    private static func tag(_ scalars: [Unicode.Scalar], from start: Int) -> (String, Int) {
        var index = start
        if index < scalars.count, scalars[index] == "/" { index += 1 }
        var name = ""
        while index < scalars.count, name.utf8.count < 16, scalars[index].isASCII,
            scalars[index].properties.isAlphabetic || ("0"..."9").contains(scalars[index])
        {
            name.unicodeScalars.append(scalars[index])
            index += 1
        }
        var quote: Unicode.Scalar?
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            if let open = quote {
                if scalar == open { quote = nil }
            } else if scalar == "\"" || scalar == "'" {
                quote = scalar
            } else if scalar == ">" {
                break
            }
        }
        return (name.lowercased(), index)
    }

    /// One of the XML entities at `start` (which holds `&`), decoded, and the index after
    /// its `;`; nil for anything else.
    private static func entity(_ scalars: [Unicode.Scalar], from start: Int) -> (Unicode.Scalar, Int)? {
        var index = start + 1
        var name = ""
        while index < scalars.count, index - start <= 9, scalars[index] != ";" {
            name.unicodeScalars.append(scalars[index])
            index += 1
        }
        guard index < scalars.count, scalars[index] == ";" else { return nil }
        let decoded: Unicode.Scalar?
        switch name {
        case "amp": decoded = "&"
        case "lt": decoded = "<"
        case "gt": decoded = ">"
        case "quot": decoded = "\""
        default:
            if name.hasPrefix("#"), name.count > 1, name.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = UInt32(name.dropFirst()), value != 0
            {
                decoded = Unicode.Scalar(value)
            } else {
                decoded = nil
            }
        }
        guard let decoded else { return nil }
        return (decoded, index + 1)
    }

    // MARK: Writing

    enum Block {
        case paragraph(String)
        case list([String])
    }

    /// An XHTML narrative of escaped text: paragraphs (line breaks kept as `<br/>`) and
    /// bulleted lists. Characters XML cannot carry become U+FFFD.
    static func xhtml(_ blocks: [Block]) -> String {
        var html = "<div xmlns=\"http://www.w3.org/1999/xhtml\">"
        for block in blocks {
            switch block {
            case .paragraph(let text):
                html += "<p>" + lines(text).joined(separator: "<br/>") + "</p>"
            case .list(let items):
                html += "<ul>" + items.map { "<li>" + lines($0).joined(separator: "<br/>") + "</li>" }.joined() + "</ul>"
            }
        }
        return html + "</div>"
    }

    private static func lines(_ text: String) -> [String] {
        text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map { HTMLRenderer.escape(xmlSafe(String($0))) }
    }

    /// XML 1.0 allows tab, LF, CR and U+0020 upward except U+FFFE/U+FFFF.
    private static func xmlSafe(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { !isXMLCharacter($0) }) else { return text }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { scalars.append(isXMLCharacter(scalar) ? scalar : "\u{FFFD}") }
        return String(scalars)
    }

    private static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return value == 0x09 || value == 0x0A || value == 0x0D || (value >= 0x20 && value != 0xFFFE && value != 0xFFFF)
    }
}
