import CLibXML2
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
        var result = ""
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_TEXT_NODE || current.pointee.type == XML_CDATA_SECTION_NODE,
               let content = LibXML.string(current.pointee.content) {
                result += content
            }
            child = current.pointee.next
        }
        return result
    }

    /// Text with the XSD "collapse" applied, for dates, numbers and base64.
    var collapsedText: String { text.trimmingCharacters(in: .whitespacesAndNewlines) }

    func problem(_ rule: String, _ message: String, field: String? = nil) -> XMLProblem {
        XMLProblem(line: line, field: field ?? node.fieldPath, rule: rule, message: message)
    }

    func optional(_ name: String) -> Element? {
        var child = node.pointee.children
        while let current = child {
            if current.isElement, xmlStrEqual(current.pointee.name, name) != 0 { return Element(node: current) }
            child = current.pointee.next
        }
        return nil
    }

    func child(_ name: String) throws -> Element {
        guard let element = optional(name) else {
            throw problem("schema", "missing element \(name)", field: node.fieldPath.isEmpty ? name : node.fieldPath + "/" + name)
        }
        return element
    }

    func all(_ name: String) -> [Element] {
        node.elementChildren.filter { xmlStrEqual($0.pointee.name, name) != 0 }.map(Element.init)
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
    func convert<T>(_ raw: String, field: String? = nil, _ make: (String) throws -> T) throws -> T {
        do {
            return try make(raw)
        } catch let error as FieldFormatError {
            throw problem(error.rule, error.message, field: field)
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
        try convert(try attribute(name).trimmingCharacters(in: .whitespaces), field: node.fieldPath + "/@" + name) {
            try CalendarDate(parsing: $0)
        }
    }

    func optionalText(_ name: String) -> String? { optional(name)?.text }
}
