import Foundation

/// Writes segments as bytes: the release character before every delimiter in the data, one
/// segment per line (`'` then a newline), every character checked against the declared set.
public enum EDIFACTSerializer {
    public static func data(_ segments: [EDIFACTSegment], charset: EDIFACTCharset) throws(MEDVRIError) -> Data {
        var output: [UInt8] = []
        for (offset, segment) in segments.enumerated() {
            let number = offset + 1
            guard segment.tag.utf8.count == 3, segment.tag.utf8.allSatisfy({ (0x41...0x5A).contains($0) || (0x30...0x39).contains($0) })
            else {
                throw MEDVRIError(rule: "syntax", message: "a segment tag must be three capitals or digits", segment: number)
            }
            guard (segment.counter ?? 0) >= 0 else {
                throw MEDVRIError(rule: "syntax", message: "a counter cannot be negative", segment: number)
            }
            var elements: [[[UInt8]]] = []
            for element in segment.elements {
                var components: [[UInt8]] = []
                for component in element {
                    guard let bytes = encode(component, charset) else {
                        throw MEDVRIError(rule: "charset", message: "a character outside \(charset.rawValue)", segment: number)
                    }
                    components.append(bytes)
                }
                elements.append(components)
            }
            append(tag: segment.tag, counter: segment.counter, elements: elements, delimiters: Delimiters(), to: &output)
            output.append(0x0A)
        }
        return Data(output)
    }

    /// One segment, terminator included, no line break: shared with the check, which compares
    /// it with the bytes it read.
    static func append(tag: String, counter: Int?, elements: [[[UInt8]]], delimiters: Delimiters, to output: inout [UInt8]) {
        output.append(contentsOf: tag.utf8)
        if let counter {
            output.append(delimiters.component)
            output.append(contentsOf: String(counter).utf8)
        }
        for element in elements {
            output.append(delimiters.element)
            for (index, component) in element.enumerated() {
                if index > 0 { output.append(delimiters.component) }
                for byte in component {
                    if delimiters.isSpecial(byte) { output.append(delimiters.release) }
                    output.append(byte)
                }
            }
        }
        output.append(delimiters.terminator)
    }

    private static func encode(_ text: String, _ charset: EDIFACTCharset) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            guard scalar.value <= 0xFF, charset.permits(UInt8(scalar.value)) else { return nil }
            bytes.append(UInt8(scalar.value))
        }
        return bytes
    }
}
