import CXMLSec
import Foundation

/// Why a model could not be written as XML: a text holds a character XML 1.0 cannot
/// carry (most control characters), or libxml2's writer failed.
public struct XMLEncodingError: Error, CustomStringConvertible, Sendable {
    public let field: String
    public let message: String
    public var description: String { "\(field): \(message)" }
}

/// Streams elements through libxml2's xmlTextWriter, which escapes text and attribute
/// values; this wrapper adds the XML 1.0 character check and field paths for errors.
final class XMLWriter {
    private let buffer: xmlBufferPtr
    private let writer: xmlTextWriterPtr
    private var path: [String] = []

    init(root: String, namespace: String) throws {
        guard let buffer = xmlBufferCreate() else { throw XMLEncodingError(field: root, message: "out of memory") }
        guard let writer = xmlNewTextWriterMemory(buffer, 0) else {
            xmlBufferFree(buffer)
            throw XMLEncodingError(field: root, message: "cannot create XML writer")
        }
        self.buffer = buffer
        self.writer = writer
        xmlTextWriterSetIndent(writer, 1)
        xmlTextWriterSetIndentString(writer, "  ")
        try check(xmlTextWriterStartDocument(writer, "1.0", "UTF-8", nil))
        try start(root, attributes: [("xmlns", namespace)])
    }

    deinit {
        xmlFreeTextWriter(writer)
        xmlBufferFree(buffer)
    }

    private var fieldPath: String { path.dropFirst().joined(separator: "/") }

    private func check(_ result: Int32) throws {
        if result < 0 { throw XMLEncodingError(field: fieldPath, message: "libxml2 writer failed") }
    }

    /// XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
    private func requireXMLCharacters(_ text: String, field: String) throws {
        for scalar in text.unicodeScalars {
            let value = scalar.value
            let allowed =
                value == 0x9 || value == 0xA || value == 0xD || (0x20...0xD7FF).contains(value)
                || (0xE000...0xFFFD).contains(value) || value >= 0x10000
            if !allowed {
                throw XMLEncodingError(field: field, message: String(format: "character U+%04X cannot appear in XML", value))
            }
        }
    }

    func start(_ name: String, attributes: [(String, String)] = []) throws {
        path.append(name)
        try check(xmlTextWriterStartElement(writer, name))
        for (attribute, value) in attributes {
            try requireXMLCharacters(value, field: fieldPath + "/@" + attribute)
            try check(xmlTextWriterWriteAttribute(writer, attribute, value))
        }
    }

    func end() throws {
        try check(xmlTextWriterEndElement(writer))
        path.removeLast()
    }

    func element(_ name: String, attributes: [(String, String)] = [], _ body: () throws -> Void) throws {
        try start(name, attributes: attributes)
        try body()
        try end()
    }

    /// An element holding only text.
    func leaf(_ name: String, _ text: String, attributes: [(String, String)] = []) throws {
        try start(name, attributes: attributes)
        try requireXMLCharacters(text, field: fieldPath)
        try check(xmlTextWriterWriteString(writer, text))
        try end()
    }

    func leaf(_ name: String, _ text: String?) throws {
        if let text { try leaf(name, text) }
    }

    func finish() throws -> Data {
        try end()
        try check(xmlTextWriterEndDocument(writer))
        try check(xmlTextWriterFlush(writer))
        guard let content = xmlBufferContent(buffer) else { return Data() }
        return Data(bytes: content, count: Int(xmlBufferLength(buffer)))
    }
}
