import Foundation
import KoerierEDIFACT
import Testing

@Suite(.ownThreads) struct ReaderTests {
    @Test(arguments: EDIFACTCharset.allCases)
    func writeReadSerialiseGivesTheSameBytes(_ charset: EDIFACTCharset) throws {
        let data = try Letters.write(charset)
        let segments = try EDIFACTReader.segments(data)
        #expect(try EDIFACTSerializer.data(segments, charset: charset) == data)
        // Unescaped values come back: the advice's special characters are data, not separators.
        let text = segments.filter { $0.tag == "TXT" }.compactMap { $0.component(0) }.joined()
        #expect(text.contains(charset.transliterate("Vragen? Bel de coach (ma+di, 9:00-12:00 'spreekuur').")))
    }

    @Test func lineBreaksBetweenSegmentsAndUNAAreOptional() throws {
        let data = try Letters.write(.unoc)
        let segments = try EDIFACTReader.segments(data)
        #expect(try EDIFACTReader.segments(Data(data.filter { $0 != 0x0A })) == segments)
        #expect(try EDIFACTReader.segments(Data(data.map { $0 == 0x0A ? 0x0D : $0 })) == segments)
        #expect(try EDIFACTReader.segments(Data("UNA:+.? '\r\n".utf8) + data) == segments)
    }

    @Test func unaSetsOtherDelimiters() throws {
        let data = Data("UNA|*.# ~UNB*UNOA|1*1*2*260101|1200*R1~UNH*R1*MEDVRI|1~TXT|1*A#*B#|C##D#~E~UNT*3*R1~UNZ*1*R1~".utf8)
        let segments = try EDIFACTReader.segments(data)
        #expect(segments.map(\.tag) == ["UNB", "UNH", "TXT", "UNT", "UNZ"])
        #expect(segments[0].elements == [["UNOA", "1"], ["1"], ["2"], ["260101", "1200"], ["R1"]])
        #expect(segments[2] == EDIFACTSegment(tag: "TXT", counter: 1, elements: [["A*B|C#D~E"]]))
        // The default delimiters are data here.
        #expect(try EDIFACTReader.segments(Data("UNA|*.# ~UNB*UNOA|1*1*2*3|4*R+:'?~".utf8))[0].elements[4] == ["R+:'?"])
    }

    @Test func theCharsetComesFromUNB() throws {
        let latin = Data("UNB+UNOC:1+1+2+260101:1200+R'\nTXT:1+caf".utf8) + Data([0xE9]) + Data("'\n".utf8)
        #expect(try EDIFACTReader.segments(latin)[1].elements == [["café"]])
        let ascii = Data("UNB+UNOA:1+1+2+260101:1200+R'\nTXT:1+CAF".utf8) + Data([0xC9]) + Data("'\n".utf8)
        #expect(throws: MEDVRIError(rule: "charset", message: "a byte outside UNOA", segment: 2)) { try EDIFACTReader.segments(ascii) }
        #expect(throws: MEDVRIError.self) { try EDIFACTReader.segments(Data("UNB+UNOB:1+1+2+3:4+R'".utf8)) }
        #expect(throws: MEDVRIError.self) { try EDIFACTReader.segments(Data("UNH+R+MEDVRI:1'".utf8)) }
    }

    @Test func theSerialiserRefusesCharactersOutsideTheSet() {
        let segment = EDIFACTSegment(tag: "TXT", counter: 1, elements: [["café"]])
        #expect(throws: MEDVRIError.self) { try EDIFACTSerializer.data([segment], charset: .unoa) }
        #expect((try? EDIFACTSerializer.data([segment], charset: .unoc)) == Data("TXT:1+caf".utf8) + Data([0xE9, 0x27, 0x0A]))
        #expect(throws: MEDVRIError.self) { try EDIFACTSerializer.data([EDIFACTSegment(tag: "TX", elements: [])], charset: .unoc) }
    }

    /// 99 elements of 99 components: within every per-segment bound.
    static let manyComponents =
        "TXT+" + Array(repeating: String(repeating: "A:", count: 98) + "A", count: 99).joined(separator: "+") + "'\n"

    static let header = "UNB+UNOA:1+1+2+260101:1200+R'\n"

    static let hostile: [(name: String, rule: String, data: Data)] = [
        ("empty", "empty", Data()),
        ("only a release character", "release", Data("?".utf8)),
        ("100k terminators", "syntax", Data(repeating: 0x27, count: 100_000)),
        ("unterminated release", "release", Data("UNB+UNOA:1+1+2+260101:1200+R?".utf8)),
        ("unterminated segment", "unterminated", Data((header + "UNH+R").utf8)),
        ("1 MB without separators", "limit", Data(repeating: 0x41, count: 1_000_000)),
        ("1 MB of component separators", "limit", Data("UNB+".utf8) + Data(repeating: 0x3A, count: 1_000_000) + Data("'".utf8)),
        ("1 MB of element separators", "limit", Data("UNB".utf8) + Data(repeating: 0x2B, count: 1_000_000) + Data("'".utf8)),
        (
            "1 MB of escaped separators", "limit",
            Data("UNB+".utf8) + Data(Array(repeating: [UInt8]([0x3F, 0x3A]), count: 500_000).joined()) + Data("'".utf8)
        ),
        ("20k segments", "limit", Data(String(repeating: "UNB+UNOA:1'\n", count: 20_000).utf8)),
        ("9 MB", "limit", Data(repeating: 0x41, count: 9 * 1024 * 1024)),
        ("300k one-byte components", "limit", Data((header + String(repeating: manyComponents, count: 31)).utf8)),
        ("short UNA", "una", Data("UNA:+".utf8)),
        ("UNA with a letter as separator", "una", Data("UNA:A.? 'UNB'".utf8)),
        ("tag too long", "syntax", Data("UNBB+UNOA:1'".utf8)),
        ("counter too long", "syntax", Data((header + "TXT:1234567+A'").utf8)),
        ("release before end", "release", Data((header + "TXT:1+?").utf8)),
    ]

    /// Hostile input ends in its error, quickly, and the check reports the same rule instead
    /// of crashing.
    @Test(arguments: hostile.indices)
    func hostileInputFailsFast(_ index: Int) {
        let (name, rule, data) = Self.hostile[index]
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            do throws(MEDVRIError) {
                _ = try EDIFACTReader.segments(data)
                Issue.record("\(name) was read")
            } catch {
                #expect(error.rule == rule, "\(name): \(error)")
            }
            #expect(MEDVRICheck.problems(in: data).map(\.rule) == [rule], "\(name)")
        }
        #expect(elapsed < .seconds(2), "\(name) took \(elapsed)")
    }

    /// Random bytes and randomly damaged letters: every outcome is an error or segments, never a
    /// crash or a hang.
    @Test func damagedInputNeverCrashes() throws {
        var random = SplitMix(seed: 20_260_608)
        let valid = [UInt8](try Letters.write(.unoa))
        let alphabet = Array("UNBHTXZGAD:+?'\n A1".utf8) + [0xE9, 0x00]
        for round in 0..<1500 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<random.next(below: 300)).map { _ in alphabet[random.next(below: alphabet.count)] }
            } else {
                bytes = valid
                for _ in 0...random.next(below: 3) {
                    bytes[random.next(below: bytes.count)] = alphabet[random.next(below: alphabet.count)]
                }
            }
            let data = Data(bytes)
            let segments = try? EDIFACTReader.segments(data)
            let problems = MEDVRICheck.problems(in: data)
            if segments == nil, problems.isEmpty {
                // The check may accept only what the reader reads.
                Issue.record("round \(round): the reader refused what the check accepted")
            }
        }
    }
}

/// A small deterministic generator (SplitMix64), so a failing round can be replayed.
struct SplitMix {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(below bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        value ^= value >> 31
        return Int(value % UInt64(bound))
    }
}
