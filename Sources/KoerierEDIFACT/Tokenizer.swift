/// The bounds the tokenizer holds every input to. A MEDVRI letter needs far less; the bounds
/// exist so hostile input fails fast with little memory instead of growing without end.
public enum EDIFACTLimits {
    public static let inputBytes = 8 * 1024 * 1024
    public static let segments = 10_000
    public static let elementsPerSegment = 99
    public static let componentsPerElement = 99
    public static let componentBytes = 1024
    /// Components in the whole interchange. Each is an allocation of its own, so without this
    /// bound megabytes of one-byte components would cost many times their size in memory. A
    /// letter of 10,000 TXT lines needs about 30,000 (tag, counter and text of each line).
    public static let components = 200_000
    /// Digits of a counter on the tag (`TXT:123456`).
    public static let counterDigits = 6
}

/// Component separator, element separator, release character and segment terminator.
struct Delimiters: Equatable {
    var component: UInt8 = 0x3A  // :
    var element: UInt8 = 0x2B  // +
    var release: UInt8 = 0x3F  // ?
    var terminator: UInt8 = 0x27  // '

    func isSpecial(_ byte: UInt8) -> Bool {
        byte == component || byte == element || byte == release || byte == terminator
    }
}

/// A segment before decoding: where it lies in the input, its tag, and its components as
/// unescaped bytes (the charset is known only once UNB has been read).
struct RawSegment {
    let range: Range<Int>
    let tag: String
    let counter: Int?
    let elements: [[[UInt8]]]
}

struct RawInterchange {
    let delimiters: Delimiters
    let segments: [RawSegment]
}

/// A single pass over the bytes with constant work per byte and no backtracking: each byte
/// is a delimiter, a release, or data appended to the current component. Every count and
/// size is bounded by `EDIFACTLimits`.
enum Tokenizer {
    private static let carriageReturn: UInt8 = 0x0D
    private static let lineFeed: UInt8 = 0x0A

    static func tokenize(_ bytes: [UInt8]) throws(MEDVRIError) -> RawInterchange {
        guard !bytes.isEmpty else { throw MEDVRIError(rule: "empty", message: "no data") }
        guard bytes.count <= EDIFACTLimits.inputBytes else {
            throw MEDVRIError(rule: "limit", message: "input larger than \(EDIFACTLimits.inputBytes) bytes")
        }
        var index = 0
        let delimiters = try serviceStringAdvice(bytes, next: &index)
        var segments: [RawSegment] = []
        var elements: [[[UInt8]]] = []
        var components: [[UInt8]] = []
        var current: [UInt8] = []
        var start: Int?
        var componentCount = 0
        func failure(_ rule: String, _ message: String) -> MEDVRIError {
            MEDVRIError(rule: rule, message: message, segment: segments.count + 1)
        }
        while index < bytes.count {
            let byte = bytes[index]
            if start == nil {
                // Line breaks between segments are layout, not data.
                if byte == carriageReturn || byte == lineFeed {
                    index += 1
                    continue
                }
                guard segments.count < EDIFACTLimits.segments else {
                    throw failure("limit", "more than \(EDIFACTLimits.segments) segments")
                }
                start = index
            }
            if byte == delimiters.release {
                guard index + 1 < bytes.count else { throw failure("release", "release character at the end of the data") }
                index += 1
                current.append(bytes[index])
            } else if byte == delimiters.component {
                components.append(current)
                current = []
                componentCount += 1
                guard components.count < EDIFACTLimits.componentsPerElement else {
                    throw failure("limit", "more than \(EDIFACTLimits.componentsPerElement) components in an element")
                }
            } else if byte == delimiters.element {
                components.append(current)
                elements.append(components)
                components = []
                current = []
                componentCount += 1
                guard elements.count < EDIFACTLimits.elementsPerSegment + 1 else {
                    throw failure("limit", "more than \(EDIFACTLimits.elementsPerSegment) elements in a segment")
                }
            } else if byte == delimiters.terminator {
                components.append(current)
                elements.append(components)
                componentCount += 1
                let (tag, counter) = try header(elements[0], segment: segments.count + 1)
                segments.append(
                    RawSegment(range: (start ?? index)..<(index + 1), tag: tag, counter: counter, elements: Array(elements.dropFirst())))
                elements = []
                components = []
                current = []
                start = nil
            } else {
                current.append(byte)
            }
            guard current.count <= EDIFACTLimits.componentBytes else {
                throw failure("limit", "a component longer than \(EDIFACTLimits.componentBytes) bytes")
            }
            guard componentCount <= EDIFACTLimits.components else {
                throw failure("limit", "more than \(EDIFACTLimits.components) components in the interchange")
            }
            index += 1
        }
        guard start == nil else { throw failure("unterminated", "the last segment has no terminator") }
        guard !segments.isEmpty else { throw MEDVRIError(rule: "empty", message: "no segments") }
        return RawInterchange(delimiters: delimiters, segments: segments)
    }

    /// `UNA:+.? '` sets the delimiters for the rest of the interchange; without it the
    /// defaults apply.
    private static func serviceStringAdvice(_ bytes: [UInt8], next index: inout Int) throws(MEDVRIError) -> Delimiters {
        guard bytes.starts(with: Array("UNA".utf8)) else { return Delimiters() }
        guard bytes.count >= 9 else { throw MEDVRIError(rule: "una", message: "UNA shorter than 9 characters") }
        let advice = Delimiters(component: bytes[3], element: bytes[4], release: bytes[6], terminator: bytes[8])
        let chosen = [advice.component, advice.element, advice.release, advice.terminator]
        guard Set(chosen).count == 4, chosen.allSatisfy({ (0x21...0x7E).contains($0) && !isAlphanumeric($0) }) else {
            throw MEDVRIError(rule: "una", message: "UNA delimiters must be four distinct punctuation characters")
        }
        index = 9
        return advice
    }

    /// The tag element: three capitals or digits, optionally `:counter`.
    private static func header(_ components: [[UInt8]], segment: Int) throws(MEDVRIError) -> (String, Int?) {
        let tag = components[0]
        guard tag.count == 3, tag.allSatisfy({ (0x41...0x5A).contains($0) || (0x30...0x39).contains($0) }) else {
            throw MEDVRIError(rule: "syntax", message: "a segment tag must be three capitals or digits", segment: segment)
        }
        guard components.count <= 2 else {
            throw MEDVRIError(rule: "syntax", message: "a segment tag takes at most one counter", segment: segment)
        }
        guard components.count == 2 else { return (String(decoding: tag, as: UTF8.self), nil) }
        let digits = components[1]
        guard (1...EDIFACTLimits.counterDigits).contains(digits.count), digits.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw MEDVRIError(rule: "syntax", message: "the counter on a tag must be 1-6 digits", segment: segment)
        }
        let counter = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        return (String(decoding: tag, as: UTF8.self), counter)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }
}
