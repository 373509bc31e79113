import Foundation

/// Proves an interchange is a well-formed MEDVRI letter: the envelope (UNB … UNZ), the bytes
/// (character set, release characters, separators), and the message (`MessageRules`). Works
/// on the tokenizer's bytes, not on decoded text, so a byte outside the set is reported
/// rather than stopping the check.
public enum MEDVRICheck {
    public static func problems(in data: Data) -> [MEDVRIProblem] {
        guard data.count <= EDIFACTLimits.inputBytes else {
            return [MEDVRIProblem(segment: 1, rule: "limit", message: "input larger than \(EDIFACTLimits.inputBytes) bytes")]
        }
        let bytes = [UInt8](data)
        let interchange: RawInterchange
        do throws(MEDVRIError) {
            interchange = try Tokenizer.tokenize(bytes)
        } catch {
            return [MEDVRIProblem(segment: error.segment ?? 1, rule: error.rule, message: error.message)]
        }
        var problems: [MEDVRIProblem] = []
        let segments = interchange.segments
        envelope(segments, into: &problems)
        characters(interchange, bytes, into: &problems)
        MessageRules.check(segments, into: &problems)
        // Stable by segment, so the report reads top to bottom.
        return problems.enumerated().sorted { ($0.element.segment, $0.offset) < ($1.element.segment, $1.offset) }.map(\.element)
    }

    /// UNB first, UNZ last, and UNZ agreeing with UNB: one message, the same reference.
    private static func envelope(_ segments: [RawSegment], into problems: inout [MEDVRIProblem]) {
        if segments[0].tag != "UNB" {
            problems.append(MEDVRIProblem(segment: 1, rule: "unb-first", message: "the interchange must start with UNB"))
        }
        guard let last = segments.last, last.tag == "UNZ" else {
            problems.append(MEDVRIProblem(segment: segments.count, rule: "unz-last", message: "the interchange must end with UNZ"))
            return
        }
        if value(last, 0) != "1" {
            problems.append(MEDVRIProblem(segment: segments.count, rule: "unz-count", message: "UNZ must count exactly 1 message"))
        }
        let unbReference = segments[0].tag == "UNB" ? value(segments[0], 4) : nil
        if unbReference == nil || value(last, 1) != unbReference {
            problems.append(
                MEDVRIProblem(segment: segments.count, rule: "unz-reference", message: "the UNZ reference differs from the UNB reference"))
        }
    }

    /// Every byte in the declared set, and every segment written back byte for byte. A stray
    /// separator would re-serialise identically (it is read as a separator), which is why
    /// `MessageRules` also holds each segment to its number of elements and components; what
    /// re-serialising catches is a release character before an ordinary character and a
    /// counter written with leading zeros.
    private static func characters(_ interchange: RawInterchange, _ bytes: [UInt8], into problems: inout [MEDVRIProblem]) {
        let segments = interchange.segments
        let charset: EDIFACTCharset?
        do throws(MEDVRIError) {
            charset = try EDIFACTReader.declaredCharset(segments)
        } catch {
            charset = nil
            if error.rule == "charset" { problems.append(MEDVRIProblem(segment: 1, rule: "charset", message: error.message)) }
        }
        var written: [UInt8] = []
        for (offset, segment) in segments.enumerated() {
            if let charset, bytes[segment.range].contains(where: { !charset.permits($0) }) {
                problems.append(MEDVRIProblem(segment: offset + 1, rule: "charset", message: "a byte outside \(charset.rawValue)"))
            }
            written.removeAll(keepingCapacity: true)
            EDIFACTSerializer.append(
                tag: segment.tag, counter: segment.counter, elements: segment.elements, delimiters: interchange.delimiters, to: &written)
            if !written.elementsEqual(bytes[segment.range]) {
                problems.append(
                    MEDVRIProblem(
                        segment: offset + 1, rule: "reserialise",
                        message: "\(segment.tag) does not re-serialise to the same bytes (a release before an ordinary character?)"))
            }
        }
    }

    /// The component as text. Latin-1 decoding cannot fail, and tags, counts and references
    /// are ASCII in both sets.
    static func value(_ segment: RawSegment, _ element: Int, _ component: Int = 0) -> String? {
        guard element < segment.elements.count, component < segment.elements[element].count else { return nil }
        return EDIFACTReader.latin1(segment.elements[element][component])
    }
}
