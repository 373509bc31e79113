/// The rules inside UNH … UNT: one MEDVRI:1 message, the dialect's segment order, UNT's count
/// and reference, each segment's shape, and the TXT lines (at most 70 characters, counters
/// 1, 2, 3 …).
enum MessageRules {
    /// The dialect's order: UNH, GGA, DET, PID, optional PAD, one or more TXT, GGO, UNT.
    private static let order: [(tag: String, minimum: Int, maximum: Int)] = [
        ("UNH", 1, 1), ("GGA", 1, 1), ("DET", 1, 1), ("PID", 1, 1), ("PAD", 0, 1), ("TXT", 1, Int.max), ("GGO", 1, 1), ("UNT", 1, 1),
    ]

    /// Most components each element may have. A separator written without its release
    /// character shows as one element or component too many.
    private static let shapes: [String: [Int]] = [
        "UNB": [5, 4, 4, 2, 1, 2, 1, 1, 1, 1, 1], "UNH": [1, 5], "GGA": [1, 1, 1, 5, 1], "DET": [3, 2],
        "PID": [3, 1, 6, 1, 1], "PAD": [5, 1], "TXT": [1], "GGO": [1, 1, 1, 5, 1], "UNT": [1, 1], "UNZ": [1, 1],
    ]

    static func check(_ segments: [RawSegment], into problems: inout [MEDVRIProblem]) {
        for (offset, segment) in segments.enumerated() { shape(segment, number: offset + 1, into: &problems) }
        let headers = segments.indices.filter { segments[$0].tag == "UNH" }
        let trailers = segments.indices.filter { segments[$0].tag == "UNT" }
        if headers.count != 1 || trailers.count != 1 {
            let at = (headers.dropFirst().first ?? trailers.dropFirst().first ?? segments.count - 1) + 1
            problems.append(MEDVRIProblem(segment: at, rule: "message-count", message: "exactly one UNH … UNT message is required"))
        }
        guard let start = headers.first else { return }
        let end = trailers.first { $0 > start }
        let unh = segments[start]
        if unh.elements.count < 2 || unh.elements[1] != [Array("MEDVRI".utf8), Array("1".utf8)] {
            problems.append(MEDVRIProblem(segment: start + 1, rule: "message-type", message: "UNH must name MEDVRI:1"))
        }
        if let end {
            trailer(segments, start: start, end: end, into: &problems)
        }
        let last = end ?? (segments.last?.tag == "UNZ" ? segments.count - 2 : segments.count - 1)
        if last >= start { sequence(segments, start...last, closed: end != nil, into: &problems) }
        outside(segments, message: start...max(start, last), into: &problems)
        text(segments, start...max(start, last), into: &problems)
    }

    private static func shape(_ segment: RawSegment, number: Int, into problems: inout [MEDVRIProblem]) {
        guard let limits = shapes[segment.tag] else { return }
        let fits =
            segment.elements.count <= limits.count
            && zip(segment.elements, limits).allSatisfy { element, limit in element.count <= limit }
        if !fits {
            problems.append(
                MEDVRIProblem(
                    segment: number, rule: "unescaped-separator",
                    message: "\(segment.tag) has more elements or components than the dialect defines (a separator without ?)"))
        }
    }

    /// UNT counts the segments from UNH to UNT inclusive and repeats UNH's reference.
    private static func trailer(_ segments: [RawSegment], start: Int, end: Int, into problems: inout [MEDVRIProblem]) {
        let unt = segments[end]
        if MEDVRICheck.value(unt, 0) != String(end - start + 1) {
            problems.append(
                MEDVRIProblem(
                    segment: end + 1, rule: "unt-count", message: "UNT must count the \(end - start + 1) segments from UNH to UNT"))
        }
        let reference = MEDVRICheck.value(segments[start], 0)
        if reference == nil || MEDVRICheck.value(unt, 1) != reference {
            problems.append(
                MEDVRIProblem(segment: end + 1, rule: "unt-reference", message: "the UNT reference differs from the UNH reference"))
        }
    }

    /// Each segment takes its place in the dialect's order. One that comes after a later
    /// place, repeats more than its place allows, or has no place is `segment-order`; a
    /// required place left empty is `missing-segment`, reported where that segment belonged.
    private static func sequence(_ segments: [RawSegment], _ message: ClosedRange<Int>, closed: Bool, into problems: inout [MEDVRIProblem])
    {
        func place(_ index: Int) -> Int? { order.firstIndex { $0.tag == segments[index].tag } }
        var counts = [Int](repeating: 0, count: order.count)
        var highest = 0
        for index in message {
            guard let slot = place(index) else {
                problems.append(
                    MEDVRIProblem(segment: index + 1, rule: "segment-order", message: "\(segments[index].tag) is not a MEDVRI segment"))
                continue
            }
            counts[slot] += 1
            if slot < highest || counts[slot] > order[slot].maximum {
                problems.append(
                    MEDVRIProblem(
                        segment: index + 1, rule: "segment-order", message: "\(segments[index].tag) is out of the dialect's order"))
            }
            highest = max(highest, slot)
        }
        for (slot, rule) in order.enumerated() where counts[slot] < rule.minimum {
            if rule.tag == "UNT", !closed { continue }  // reported as message-count
            let at = message.first { place($0).map { $0 > slot } ?? false } ?? message.upperBound
            problems.append(MEDVRIProblem(segment: at + 1, rule: "missing-segment", message: "\(rule.tag) is missing"))
        }
    }

    /// Between UNB and UNH, and between UNT and UNZ, nothing belongs.
    private static func outside(_ segments: [RawSegment], message: ClosedRange<Int>, into problems: inout [MEDVRIProblem]) {
        for index in segments.indices where !message.contains(index) {
            let tag = segments[index].tag
            let isEnvelope = (index == 0 && tag == "UNB") || (index == segments.count - 1 && tag == "UNZ")
            if !isEnvelope, tag != "UNH", tag != "UNT" {
                problems.append(MEDVRIProblem(segment: index + 1, rule: "segment-order", message: "\(tag) lies outside the message"))
            }
        }
    }

    /// Each TXT line at most 70 characters as read (one byte is one character in UNOA and
    /// UNOC), counters consecutive from 1.
    private static func text(_ segments: [RawSegment], _ message: ClosedRange<Int>, into problems: inout [MEDVRIProblem]) {
        var expected = 1
        for index in message where segments[index].tag == "TXT" {
            let segment = segments[index]
            let components = segment.elements.flatMap { $0 }
            let length = components.reduce(0) { $0 + $1.count } + max(0, components.count - 1)
            if length > LetterText.width {
                problems.append(
                    MEDVRIProblem(segment: index + 1, rule: "txt-length", message: "a TXT line is \(length) characters, at most 70 allowed")
                )
            }
            if segment.counter != expected {
                problems.append(MEDVRIProblem(segment: index + 1, rule: "txt-counter", message: "TXT lines must be numbered 1, 2, 3 …"))
            }
            expected = (segment.counter ?? expected) + 1
        }
    }
}
