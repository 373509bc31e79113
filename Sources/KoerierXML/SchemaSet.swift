import CXMLSec
import Foundation
import KoerierModel

/// The XSDs of `Schemas/`, compiled once. libxml2 allows one compiled schema to be used
/// by many validation contexts at once, which is why this is shared across threads.
public final class SchemaSet: @unchecked Sendable {
    /// Owns one compiled schema. Each validator pool holds a reference to it, so the
    /// schema is freed only after every validation context that points into it.
    private final class CompiledSchema: @unchecked Sendable {
        let pointer: xmlSchemaPtr
        init(_ pointer: xmlSchemaPtr) { self.pointer = pointer }
        deinit { xmlSchemaFree(pointer) }
    }

    private let validators: [MessageKind: ContextPool<xmlSchemaValidCtxtPtr>]
    public let directory: URL

    public struct LoadError: Error, CustomStringConvertible {
        public let file: String
        public let problems: [XMLProblem]
        public var description: String {
            problems.isEmpty ? "\(file): cannot load schema" : problems.map { "\(file):\($0)" }.joined(separator: "\n")
        }
    }

    public init(directory: URL, limits: XMLLimits = .standard) throws {
        LibXML.initialise(maxDepth: limits.maxDepth)
        self.directory = directory
        var compiled: [MessageKind: CompiledSchema] = [:]
        for kind in MessageKind.allCases {
            compiled[kind] = CompiledSchema(try SchemaSet.compile(directory.appendingPathComponent(kind.schemaFileName)))
        }
        validators = compiled.mapValues { schema in
            ContextPool(make: { xmlSchemaNewValidCtxt(schema.pointer) }, destroy: { xmlSchemaFreeValidCtxt($0) })
        }
    }

    private static func compile(_ file: URL) throws -> xmlSchemaPtr {
        guard FileManager.default.isReadableFile(atPath: file.path) else {
            throw LoadError(
                file: file.path, problems: [XMLProblem(line: 1, rule: "schema-missing", message: "schema file not found or not readable")])
        }
        guard let parser = xmlSchemaNewParserCtxt(file.path) else {
            throw LoadError(file: file.path, problems: [])
        }
        defer { xmlSchemaFreeParserCtxt(parser) }
        let collector = ErrorCollector()
        xmlSchemaSetParserStructuredErrors(parser, ErrorCollector.callback, collector.context)
        guard let schema = xmlSchemaParse(parser) else {
            throw LoadError(
                file: file.path,
                problems: collector.errors.map {
                    XMLProblem(line: max(1, $0.line), rule: "schema-compile", message: $0.message)
                })
        }
        return schema
    }

    /// Validates a parsed document against the schema of `kind`; empty when valid.
    public func validate(_ document: XMLDocument, as kind: MessageKind) -> [XMLProblem] {
        guard let pool = validators[kind] else {
            return [XMLProblem(line: 1, rule: "internal", message: "no schema for \(kind.rawValue)")]
        }
        let collector = ErrorCollector()
        let result: Int32 = pool.with { context in
            guard let context else { return -1 }
            xmlSchemaSetValidStructuredErrors(context, ErrorCollector.callback, collector.context)
            defer { xmlSchemaSetValidStructuredErrors(context, nil, nil) }
            return xmlSchemaValidateDoc(context, document.pointer)
        }
        if result == 0 { return [] }
        let problems = collector.errors.map { error in
            XMLProblem(
                line: max(1, error.line), field: error.node.map(\.fieldPath).flatMap { $0.isEmpty ? nil : $0 },
                rule: "schema", message: SchemaSet.readable(error.message))
        }
        return problems.isEmpty
            ? [XMLProblem(line: 1, rule: "schema", message: "document does not match \(kind.schemaFileName)")] : problems
    }

    /// libxml2 writes element names as `{urn:koerier:referral:1}BSN`; the namespace is
    /// the same for the whole document, so drop it.
    static func readable(_ message: String) -> String {
        var text = message
        for kind in MessageKind.allCases {
            text = text.replacingOccurrences(of: "{\(kind.namespace)}", with: "")
        }
        return text
    }
}
