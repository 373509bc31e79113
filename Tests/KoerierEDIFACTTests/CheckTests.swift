import Foundation
import KoerierEDIFACT
import Testing

/// One way to break a valid interchange, the rule that must catch it, and the segment (line)
/// it must be reported at.
enum Breakage: String, CaseIterable, Sendable {
    case wrongUNTCount, wrongUNZReference, wrongUNTReference, txtOf71Characters, unescapedPlusInTXT, unescapedColonInTXT
    case byteOutsideUNOA, lowerCaseInUNOA, missingGGO, gapInTXTCounters, wrongMessageType, detBeforeGGA, releaseBeforeLetter
    case unzCountingTwo, missingUNZ

    var rule: String {
        switch self {
        case .wrongUNTCount: return "unt-count"
        case .wrongUNZReference: return "unz-reference"
        case .wrongUNTReference: return "unt-reference"
        case .txtOf71Characters: return "txt-length"
        case .unescapedPlusInTXT, .unescapedColonInTXT: return "unescaped-separator"
        case .byteOutsideUNOA, .lowerCaseInUNOA: return "charset"
        case .missingGGO: return "missing-segment"
        case .gapInTXTCounters: return "txt-counter"
        case .wrongMessageType: return "message-type"
        case .detBeforeGGA: return "segment-order"
        case .releaseBeforeLetter: return "reserialise"
        case .unzCountingTwo: return "unz-count"
        case .missingUNZ: return "unz-last"
        }
    }

    /// Breaks `lines`; returns the 1-based segment the problem belongs to.
    func apply(to lines: inout Lines) throws -> Int {
        let unt = try #require(lines.index(of: "UNT+"))
        let unz = try #require(lines.index(of: "UNZ+"))
        let txt = try #require(lines.textLine)
        let counter = lines.string(txt).dropFirst(4).prefix { $0 != "+" }
        let reference = lines.string(unz).dropFirst(6).dropLast()
        switch self {
        case .wrongUNTCount:
            lines.replace(unt, with: "UNT+\(unt + 1)+\(reference)'")  // the right count is unt: UNH is line 1
            return unt + 1
        case .wrongUNZReference:
            lines.replace(unz, with: "UNZ+1+K000000000000'")
            return unz + 1
        case .wrongUNTReference:
            lines.replace(unt, with: "UNT+\(unt)+X\(reference.dropFirst())'")
            return unt + 1
        case .txtOf71Characters:
            lines.replace(txt, with: "TXT:\(counter)+\(String(repeating: "A", count: 71))'")
            return txt + 1
        case .unescapedPlusInTXT:
            lines.replace(txt, with: "TXT:\(counter)+BEL 2+2 UUR'")
            return txt + 1
        case .unescapedColonInTXT:
            lines.replace(txt, with: "TXT:\(counter)+OM 9:00 UUR'")
            return txt + 1
        case .byteOutsideUNOA:
            lines.lines[txt] = Array("TXT:\(counter)+CLI".utf8) + [0xEB] + Array("NTE'".utf8)
            return txt + 1
        case .lowerCaseInUNOA:
            lines.replace(txt, with: "TXT:\(counter)+cliente'")
            return txt + 1
        case .missingGGO:
            let ggo = try #require(lines.index(of: "GGO+"))
            lines.lines.remove(at: ggo)
            lines.replace(ggo, with: "UNT+\(ggo)+\(reference)'")  // UNT moved up a line: its count drops by one
            return ggo + 1
        case .gapInTXTCounters:
            let last = try #require(lines.index(of: "GGO+")) - 1
            let number = try #require(Int(lines.string(last).dropFirst(4).prefix { $0 != "+" }))
            lines.replace(last, with: "TXT:\(number + 1)+'")
            return last + 1
        case .wrongMessageType:
            let unh = try #require(lines.index(of: "UNH+"))
            lines.replace(unh, with: "UNH+\(reference)+MEDLAB:1'")
            return unh + 1
        case .detBeforeGGA:
            let gga = try #require(lines.index(of: "GGA+"))
            lines.lines.swapAt(gga, gga + 1)
            return gga + 2  // GGA, now after DET, is what is out of place
        case .releaseBeforeLetter:
            lines.replace(txt, with: "TXT:\(counter)+?CLIENTE'")
            return txt + 1
        case .unzCountingTwo:
            lines.replace(unz, with: "UNZ+2+\(reference)'")
            return unz + 1
        case .missingUNZ:
            lines.lines.removeLast()
            return unz
        }
    }
}

@Suite(.ownThreads) struct CheckTests {
    /// Each breakage is found by its own rule, at its segment, and by nothing else.
    @Test(arguments: Breakage.allCases)
    func checkCatchesEachBreakageByItsRule(_ breakage: Breakage) throws {
        var lines = Lines(try Letters.write(.unoa))
        #expect(MEDVRICheck.problems(in: lines.data) == [])
        let segment = try breakage.apply(to: &lines)
        let problems = MEDVRICheck.problems(in: lines.data)
        #expect(problems.map(\.rule) == [breakage.rule], "\(problems)")
        #expect(problems.first?.segment == segment)
    }

    @Test func theCheckAcceptsTheWriterInBothSetsWithAndWithoutLineBreaks() throws {
        for charset in EDIFACTCharset.allCases {
            let data = try Letters.write(charset)
            #expect(MEDVRICheck.problems(in: data) == [])
            #expect(MEDVRICheck.problems(in: Data(data.filter { $0 != 0x0A })) == [])
            #expect(MEDVRICheck.problems(in: Data("UNA:+.? '\n".utf8) + data) == [])
        }
    }

    @Test func anUnescapedTerminatorIsReportedNotThrown() throws {
        var lines = Lines(try Letters.write(.unoa))
        let txt = try #require(lines.textLine)
        lines.replace(txt, with: "TXT:1+EEN'TWEE'")  // an unescaped terminator leaves "TWEE" as a segment without a tag
        let problems = MEDVRICheck.problems(in: lines.data)
        #expect(problems.map(\.rule) == ["syntax"])
        #expect(problems.first?.segment == txt + 2)
    }

    @Test func aUNOCInterchangeMayHoldLatin1ButNoControls() throws {
        var lines = Lines(try Letters.write(.unoc))
        #expect(MEDVRICheck.problems(in: lines.data) == [])
        let txt = try #require(lines.textLine)
        lines.lines[txt] = Array("TXT:1+BEL".utf8) + [0x07, 0x27]
        #expect(MEDVRICheck.problems(in: lines.data).map(\.rule) == ["charset"])
        lines.lines[txt] = Array("TXT:1+caf".utf8) + [0xE9, 0x27]
        #expect(MEDVRICheck.problems(in: lines.data) == [])
    }
}
