import CXMLSec
import Foundation
import KoerierModel

/// Read access to one element of a schema-valid document. Schema validation runs first,
/// so a missing element here is a bug or a schema/decoder mismatch; it still yields a
/// located problem, never a crash.
struct Element {
    let node: xmlNodePtr

    var line: Int { node.lineNumber }

    /// Concatenated text and CDATA children, exactly as written.
    var text: String {
        // Almost every leaf holds exactly one text node: return it without concatenating.
        if let only = node.pointee.children, only.pointee.next == nil, only.pointee.type == XML_TEXT_NODE {
            return LibXML.string(only.pointee.content) ?? ""
        }
        var result = ""
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_TEXT_NODE || current.pointee.type == XML_CDATA_SECTION_NODE,
                let content = LibXML.string(current.pointee.content)
            {
                result += content
            }
            child = current.pointee.next
        }
        return result
    }

    /// Text with XSD's whitespace collapse at the ends, for dates, numbers and base64.
    var collapsedText: String { xsdTrimmed(text) }

    func problem(_ rule: String, _ message: String, field: String? = nil) -> XMLProblem {
        XMLProblem(line: line, field: field ?? node.fieldPath, rule: rule, message: message)
    }

    /// The path of one of this element's attributes, for error messages only.
    func attributePath(_ name: String) -> String { node.fieldPath + "/@" + name }

    /// Element names are literals: a StaticString is already a C string, so comparing
    /// costs no conversion (a String would be converted once per sibling).
    func optional(_ name: StaticString) -> Element? {
        var child = node.pointee.children
        while let current = child {
            if current.isElement, xmlStrEqual(current.pointee.name, name.utf8Start) != 0 { return Element(node: current) }
            child = current.pointee.next
        }
        return nil
    }

    func child(_ name: StaticString) throws -> Element {
        guard let element = optional(name) else {
            let path = node.fieldPath
            throw problem("schema", "missing element \(name)", field: path.isEmpty ? "\(name)" : path + "/\(name)")
        }
        return element
    }

    func all(_ name: StaticString) -> [Element] {
        var result: [Element] = []
        var child = node.pointee.children
        while let current = child {
            if current.isElement, xmlStrEqual(current.pointee.name, name.utf8Start) != 0 { result.append(Element(node: current)) }
            child = current.pointee.next
        }
        return result
    }

    func optionalAttribute(_ name: String) -> String? {
        guard let value = xmlGetNoNsProp(node, name) else { return nil }
        defer { koerier_xml_free(value) }
        return LibXML.string(value)
    }

    func attribute(_ name: String) throws -> String {
        guard let value = optionalAttribute(name) else { throw problem("schema", "missing attribute \(name)") }
        return value
    }

    /// Converts with a model initialiser; its format error becomes a located problem.
    /// `field` is only evaluated on failure: computing a path walks the tree.
    func convert<T>(_ raw: String, field: @autoclosure () -> String? = nil, _ make: (String) throws -> T) throws -> T {
        do {
            return try make(raw)
        } catch let error as FieldFormatError {
            throw problem(error.rule, error.message, field: field())
        }
    }

    func value<T>(_ make: (String) throws -> T) throws -> T { try convert(text, make) }

    func choice<T: RawRepresentable>(_: T.Type = T.self) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: text) else { throw problem("schema", "unknown value '\(text)'") }
        return value
    }

    func integer() throws -> Int {
        guard let value = Int(collapsedText) else { throw problem("schema", "not an integer") }
        return value
    }

    func date() throws -> CalendarDate { try convert(collapsedText) { try CalendarDate(parsing: $0) } }

    func timestamp() throws -> Timestamp { try convert(collapsedText) { try Timestamp(parsing: $0) } }

    func dateAttribute(_ name: String) throws -> CalendarDate {
        try convert(xsdTrimmed(try attribute(name)), field: attributePath(name)) {
            try CalendarDate(parsing: $0)
        }
    }

    func optionalText(_ name: StaticString) -> String? { optional(name)?.text }
}

/// Strips XSD white space (#x20, #x9, #xA, #xD) from both ends. Foundation's
/// `trimmingCharacters` goes through NSString and was a third of decoding time.
func xsdTrimmed(_ text: String) -> String {
    let utf8 = text.utf8
    let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
    guard let first = utf8.firstIndex(where: { !isSpace($0) }), let last = utf8.lastIndex(where: { !isSpace($0) }) else {
        return ""
    }
    if first == utf8.startIndex && last == utf8.index(before: utf8.endIndex) { return text }
    return String(text[first...last])
}
