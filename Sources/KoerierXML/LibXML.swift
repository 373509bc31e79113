import CXMLSec
import Foundation

/// Process-wide libxml2 set-up, done once before the first parse.
package enum LibXML {
    private static let once: Void = {
        xmlInitParser()
        koerier_xml_forbid_network()
    }()

    package static func initialise(maxDepth: Int) {
        _ = once
        // The depth bound is global in libxml2 2.9; every parser here uses the same value.
        koerier_xml_set_max_depth(UInt32(clamping: maxDepth))
    }

    package static func string(_ pointer: UnsafePointer<xmlChar>?) -> String? {
        pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
    }

    /// libxml2 messages end in a newline and sometimes span lines; ops get one line, and
    /// without the values libxml2 quotes from the message (a BSN, a date, a score, the bytes
    /// around an encoding error): errors name the element and the rule, never the content.
    package static func flatten(_ message: String) -> String {
        let line = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: "; ")
        return withoutQuotedValues(line)
    }

    package static func withoutQuotedValues(_ message: String) -> String {
        message
            .replacing(/'[^']*' is not a valid value/, with: "the value is not a valid value")
            .replacing(/The value '[^']*'/, with: "The value")
            .replacing(/The value has a length of '[^']*'; this/, with: "The value's length")
            .replacing(/;? ?Bytes:(\s0x[0-9A-Fa-f]{2})+/, with: "")
            .replacing(/key-sequence \[[^\]]*\]/, with: "key-sequence")
    }
}

/// Receives libxml2's structured errors through a C callback.
final class ErrorCollector {
    var errors: [(line: Int, node: xmlNodePtr?, message: String)] = []

    var context: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static let callback: xmlStructuredErrorFunc = { context, error in
        guard let context, let error else { return }
        let collector = Unmanaged<ErrorCollector>.fromOpaque(context).takeUnretainedValue()
        let text = error.pointee.message.map { String(cString: $0) } ?? "unknown error"
        collector.errors.append(
            (
                Int(error.pointee.line), error.pointee.node?.assumingMemoryBound(to: xmlNode.self),
                LibXML.flatten(text)
            ))
    }
}
