import CXMLSec
import Foundation
import KoerierModel

/// Bytes ⇄ model for every message kind. Parsing runs the whole gate in order:
/// size and emptiness → hardened well-formedness → root element and namespace → XSD →
/// model decoding (identifier checks such as the elfproef) → rules beyond the schema.
/// The first stage that fails reports all its problems, each with a line.
public final class MessageCodec: Sendable {
    public let schemas: SchemaSet
    public let parser: HardenedParser

    public init(schemas: SchemaSet, limits: XMLLimits = .standard) {
        self.schemas = schemas
        self.parser = HardenedParser(limits: limits)
    }

    public convenience init(schemaDirectory: URL, limits: XMLLimits = .standard) throws {
        self.init(schemas: try SchemaSet(directory: schemaDirectory, limits: limits), limits: limits)
    }

    /// Parses and checks a message; throws every problem found at the failing stage.
    public func decode(_ data: Data) throws(XMLProblems) -> Message {
        try decodeKeepingDocument(data).message
    }

    /// Like `decode`, and also returns the parsed tree, for the signature check that follows.
    public func decodeKeepingDocument(_ data: Data) throws(XMLProblems) -> (message: Message, document: XMLDocument) {
        let document = try parser.parse(data)
        let kind = try MessageCodec.kind(of: document)
        let schemaProblems = schemas.validate(document, as: kind)
        if !schemaProblems.isEmpty { throw XMLProblems(schemaProblems) }

        let message: Message
        do {
            message = try MessageCodec.model(of: document, kind: kind)
        } catch let problem as XMLProblem {
            throw XMLProblems([problem])
        } catch {
            throw XMLProblems([XMLProblem(line: 1, rule: "internal", message: "\(error)")])
        }
        let violations = message.ruleViolations()
        if !violations.isEmpty {
            throw XMLProblems(
                violations.map {
                    XMLProblem(line: FieldLocator.line(of: $0.field, in: document), field: $0.field, rule: $0.rule, message: $0.message)
                })
        }
        return (message, document)
    }

    /// Problems of a message; empty when it is valid.
    public func problems(in data: Data) -> [XMLProblem] {
        do {
            _ = try decode(data)
            return []
        } catch {
            return error.problems
        }
    }

    /// Writes a message as XML. With `verify` (the default) the bytes are decoded again
    /// through the full gate, so nothing schema-invalid or rule-breaking ever leaves.
    public func encode(_ message: Message, verify: Bool = true) throws -> Data {
        let writer = try XMLWriter(root: message.kind.rootElement, namespace: message.kind.namespace)
        switch message {
        case .referral(let referral): try writer.referral(referral)
        case .returnLetter(let letter): try writer.returnLetter(letter)
        case .participationNotice(let notice): try writer.participationNotice(notice)
        case .receipt(let receipt): try writer.receipt(receipt)
        }
        let data = try writer.finish()
        if verify { _ = try decode(data) }
        return data
    }

    static func kind(of document: XMLDocument) throws(XMLProblems) -> MessageKind {
        guard let root = document.rootElement else {
            throw XMLProblems([XMLProblem(line: 1, rule: "root-element", message: "document has no root element")])
        }
        let name = root.localName
        guard let kind = MessageKind(rootElement: name) else {
            let expected = MessageKind.allCases.map(\.rootElement).joined(separator: ", ")
            throw XMLProblems([
                XMLProblem(
                    line: root.lineNumber, field: name, rule: "root-element",
                    message: "unknown root element '\(name)'; expected one of \(expected)")
            ])
        }
        guard root.namespaceURI == kind.namespace else {
            let found = root.namespaceURI.map { "'\($0)'" } ?? "no namespace"
            throw XMLProblems([
                XMLProblem(
                    line: root.lineNumber, field: name, rule: "namespace",
                    message: "root element \(name) is in \(found); expected '\(kind.namespace)'")
            ])
        }
        return kind
    }

    static func model(of document: XMLDocument, kind: MessageKind) throws -> Message {
        guard let root = document.rootElement else { throw XMLProblem(line: 1, rule: "root-element", message: "no root element") }
        let element = Element(node: root)
        switch kind {
        case .referral: return .referral(try element.referral())
        case .returnLetter: return .returnLetter(try element.returnLetter())
        case .participationNotice: return .participationNotice(try element.participationNotice())
        case .receipt: return .receipt(try element.receipt())
        }
    }
}
