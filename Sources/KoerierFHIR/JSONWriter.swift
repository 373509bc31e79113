/// Serialises a `JSONValue` deterministically: object members sorted by the bytes of
/// their names, two-space indentation, no escaping beyond what JSON requires. The same
/// value always gives the same bytes, so a written Bundle can be compared, hashed and
/// signed, and a committed sample can be checked against the writer.
enum JSONWriter {
    static func bytes(_ value: JSONValue, pretty: Bool = true) -> [UInt8] {
        var output: [UInt8] = []
        write(value, indent: 0, pretty: pretty, into: &output)
        if pretty { output.append(0x0A) }
        return output
    }

    private static func write(_ value: JSONValue, indent: Int, pretty: Bool, into output: inout [UInt8]) {
        switch value {
        case .null: output += Array("null".utf8)
        case .bool(let flag): output += Array((flag ? "true" : "false").utf8)
        case .number(let literal): output += Array(literal.utf8)
        case .string(let text): writeString(text, into: &output)
        case .array(let elements):
            guard !elements.isEmpty else {
                output += Array("[]".utf8)
                return
            }
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                newline(indent + 1, pretty: pretty, into: &output)
                write(element, indent: indent + 1, pretty: pretty, into: &output)
            }
            newline(indent, pretty: pretty, into: &output)
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            guard !members.isEmpty else {
                output += Array("{}".utf8)
                return
            }
            output.append(UInt8(ascii: "{"))
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (position, key) in keys.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                newline(indent + 1, pretty: pretty, into: &output)
                writeString(key, into: &output)
                output += pretty ? Array(": ".utf8) : [UInt8(ascii: ":")]
                if let member = members[key] { write(member, indent: indent + 1, pretty: pretty, into: &output) }
            }
            newline(indent, pretty: pretty, into: &output)
            output.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(_ indent: Int, pretty: Bool, into output: inout [UInt8]) {
        guard pretty else { return }
        output.append(0x0A)
        output += [UInt8](repeating: 0x20, count: indent * 2)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func writeString(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): output += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: output += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: output += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: output += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                output += Array("\\u00".utf8)
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
