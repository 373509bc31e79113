import Foundation

/// Reads an interchange into segments: the tokenizer splits the bytes, then each component is
/// decoded in the character set UNB declares (UNOA as ASCII, UNOC as Latin-1).
public enum EDIFACTReader {
    public static func segments(_ data: Data) throws(MEDVRIError) -> [EDIFACTSegment] {
        // Refuse before copying: the bound is also what keeps the copy small.
        guard data.count <= EDIFACTLimits.inputBytes else {
            throw MEDVRIError(rule: "limit", message: "input larger than \(EDIFACTLimits.inputBytes) bytes")
        }
        let raw = try Tokenizer.tokenize([UInt8](data))
        let charset = try declaredCharset(raw.segments)
        var segments: [EDIFACTSegment] = []
        segments.reserveCapacity(raw.segments.count)
        for (offset, segment) in raw.segments.enumerated() {
            var elements: [[String]] = []
            for element in segment.elements {
                var components: [String] = []
                for component in element {
                    guard let text = decode(component, charset) else {
                        throw MEDVRIError(rule: "charset", message: "a byte outside \(charset.rawValue)", segment: offset + 1)
                    }
                    components.append(text)
                }
                elements.append(components)
            }
            segments.append(EDIFACTSegment(tag: segment.tag, counter: segment.counter, elements: elements))
        }
        return segments
    }

    /// The syntax identifier of UNB (`UNOA:1`): which bytes the rest may hold.
    static func declaredCharset(_ segments: [RawSegment]) throws(MEDVRIError) -> EDIFACTCharset {
        guard let first = segments.first, first.tag == "UNB" else {
            throw MEDVRIError(rule: "unb-first", message: "the interchange must start with UNB", segment: 1)
        }
        guard let syntax = first.elements.first?.first, let charset = EDIFACTCharset(rawValue: String(decoding: syntax, as: UTF8.self))
        else {
            throw MEDVRIError(rule: "charset", message: "UNB declares neither UNOA nor UNOC", segment: 1)
        }
        return charset
    }

    /// UNOA is read as ASCII (lower case is tolerated here; the check reports it), UNOC as
    /// Latin-1, where every byte is the code point of the same value.
    static func decode(_ bytes: [UInt8], _ charset: EDIFACTCharset) -> String? {
        if charset == .unoa, bytes.contains(where: { $0 >= 0x80 }) { return nil }
        return latin1(bytes)
    }

    static func latin1(_ bytes: [UInt8]) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: bytes.map { Unicode.Scalar($0) })
        return String(scalars)
    }
}
