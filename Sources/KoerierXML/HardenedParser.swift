import CXMLSec
import Foundation

/// Parses untrusted bytes into a libxml2 document with every dangerous feature off:
/// no network, no DTD loading, no entity substitution (and any DOCTYPE at all stops the
/// parse before its declarations are read, so XXE and entity bombs never start), input
/// forced to UTF-8, a size bound and a linear scan (NUL bytes, attribute counts, names,
/// texts: `MarkupScan`) before parsing, and a nesting bound during it.
public struct HardenedParser: Sendable {
    public let limits: XMLLimits
    private let contexts: ContextPool<xmlParserCtxtPtr>

    /// A reused context keeps its name dictionary; hostile input full of distinct names
    /// must not grow it without bound, so such a context is dropped instead of reused.
    private static let maxReusedDictionarySize = 4096

    /// Parser contexts dropped because their name dictionary outgrew the bound.
    package var contextsDroppedForDictionarySize: Int { contexts.droppedAsUnfit }

    public init(limits: XMLLimits = .standard) {
        self.limits = limits
        LibXML.initialise(maxDepth: limits.maxDepth)
        contexts = ContextPool(
            make: {
                guard let context = xmlNewParserCtxt() else { return nil }
                context.pointee.sax.pointee.internalSubset = HardenedParser.refuseDoctype
                return context
            }, destroy: { xmlFreeParserCtxt($0) })
    }

    /// XML_PARSE_NONET: no network; COMPACT stores short texts inside their node (fewer
    /// allocations, same tree). Deliberately absent: NOENT (entity substitution),
    /// DTDLOAD, DTDATTR, DTDVALID, XINCLUDE and HUGE (which lifts the built-in bounds).
    private static let options: Int32 = {
        let flags = XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue | XML_PARSE_COMPACT.rawValue
        return Int32(bitPattern: UInt32(flags))
    }()

    /// Called by libxml2 at a DOCTYPE, before its internal subset is parsed: stop there.
    private static let refuseDoctype: internalSubsetSAXFunc = { context, _, _, _ in
        guard let context else { return }
        xmlStopParser(context.assumingMemoryBound(to: xmlParserCtxt.self))
    }

    public func parse(_ data: Data) throws(XMLProblems) -> XMLDocument {
        if data.isEmpty {
            throw XMLProblems([XMLProblem(line: 1, rule: "empty", message: "empty file: expected an XML message")])
        }
        if data.count > limits.maxMessageBytes {
            throw XMLProblems([
                XMLProblem(
                    line: 1, rule: "size-limit",
                    message: "message is \(data.count) bytes; the limit is \(limits.maxMessageBytes) bytes")
            ])
        }
        return try contexts.with(
            reusable: { xmlDictSize($0.pointee.dict) < HardenedParser.maxReusedDictionarySize },
            {
                (context) throws(XMLProblems) -> XMLDocument in
                guard let context else {
                    throw XMLProblems([XMLProblem(line: 1, rule: "internal", message: "could not create an XML parser")])
                }
                return try parse(data, with: context)
            })
    }

    private func parse(_ data: Data, with context: xmlParserCtxtPtr) throws(XMLProblems) -> XMLDocument {
        let scanned: XMLProblems? = data.withUnsafeBytes { buffer in
            do throws(XMLProblems) {
                try MarkupScan(limits: limits).check(buffer)
                return nil
            } catch { return error }
        }
        if let scanned { throw scanned }
        let document = data.withUnsafeBytes { buffer in
            xmlCtxtReadMemory(
                context, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(buffer.count),
                "message.xml", "UTF-8", HardenedParser.options)
        }

        if context.pointee.errNo == Int32(XML_ERR_USER_STOP.rawValue) {
            if let document { xmlFreeDoc(document) }
            let line = context.pointee.input.map { Int($0.pointee.line) } ?? 1
            throw XMLProblems([
                XMLProblem(
                    line: line, rule: "no-dtd",
                    message: "DOCTYPE declarations are not allowed: Koerier refuses DTDs and entity declarations (XXE, entity expansion)")
            ])
        }
        guard let document, context.pointee.wellFormed != 0 else {
            if let document { xmlFreeDoc(document) }
            throw XMLProblems([HardenedParser.problem(from: xmlCtxtGetLastError(context))])
        }
        return XMLDocument(document)
    }

    private static func problem(from error: xmlErrorPtr?) -> XMLProblem {
        guard let error else { return XMLProblem(line: 1, rule: "well-formed", message: "not well-formed XML") }
        let message = LibXML.flatten(error.pointee.message.map { String(cString: $0) } ?? "not well-formed XML")
        let code = error.pointee.code
        let rule: String
        switch code {
        case Int32(XML_ERR_INVALID_CHAR.rawValue), Int32(XML_ERR_INVALID_ENCODING.rawValue),
            Int32(XML_ERR_UNSUPPORTED_ENCODING.rawValue):
            return XMLProblem(
                line: max(1, Int(error.pointee.line)), rule: "encoding",
                message: "not UTF-8 (Koerier accepts UTF-8 only): " + message)
        case Int32(XML_ERR_INTERNAL_ERROR.rawValue) where message.contains("depth"):
            rule = "depth-limit"
        default:
            rule = "well-formed"
        }
        return XMLProblem(line: max(1, Int(error.pointee.line)), rule: rule, message: message)
    }
}
