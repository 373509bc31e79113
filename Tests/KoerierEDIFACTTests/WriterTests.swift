import Foundation
import KoerierEDIFACT
import KoerierModel
import KoerierRender
import KoerierTestSupport
import Testing

@Suite(.ownThreads) struct WriterTests {
    /// The fase-2 letter in both sets: the check is clean, pydifact reads the same segments as
    /// our reader, and the TXT lines carry the whole rendered letter.
    @Test(arguments: EDIFACTCharset.allCases)
    func fase2LetterIsReadIdenticallyByPydifact(_ charset: EDIFACTCharset) async throws {
        let letter = Letters.fase2()
        let data = try Letters.write(letter, charset)
        #expect(MEDVRICheck.problems(in: data) == [])

        let ours = try EDIFACTReader.segments(data)
        let theirs = try await Pydifact.parse(data, charset: charset)
        #expect(theirs.segments.map(\.tag) == ours.map(\.tag))
        #expect(theirs.segments.map { Pydifact.normalised($0.elements) } == ours.map { Pydifact.normalised($0.elements) })
        let texts = ours.filter { $0.tag == "TXT" }
        #expect(theirs.counters == texts.compactMap(\.counter))
        #expect(texts.map(\.counter) == (1...texts.count).map { Optional($0) })

        // UNT counts UNH … UNT inclusive.
        let unh = try #require(ours.firstIndex { $0.tag == "UNH" })
        let unt = try #require(ours.firstIndex { $0.tag == "UNT" })
        #expect(ours[unt].component(0) == String(unt - unh + 1))

        let lines = texts.map { $0.component(0) ?? "" }
        #expect(lines.allSatisfy { $0.count <= 70 })
        #expect(lines.contains { $0.count > 60 }, "lines are filled, not cut short")
        let rendered = TextRenderer.render(LetterDocument(.returnLetter(letter)))
        #expect(try rejoin(lines, into: expectedLines(rendered, charset)))
    }

    @Test func unoaUpperCasesTransliteratesAndEscapes() throws {
        let data = try Letters.write(.unoa)
        #expect(data.allSatisfy { $0 == 0x0A || EDIFACTCharset.unoa.permits($0) })
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("CLIENTE SLAAPT BETER"))
        #expect(text.contains("TERUGKOPPELING - FASE 2 - MATIGE STRESS"))
        #expect(text.contains("VRAGEN?? BEL DE COACH"))
        #expect(text.contains("(MA?+DI, 9?:00-12?:00 ?'SPREEKUUR?')."))
        #expect(text.contains("\nTXT:6+VAN?:  "))
        #expect(text.contains("* MINSTENS 6 NACHTEN"))
        #expect(!text.contains { $0.isLowercase })
    }

    @Test func unocKeepsCaseAndWritesLatin1() throws {
        let data = try Letters.write(.unoc)
        #expect(data.allSatisfy { $0 == 0x0A || EDIFACTCharset.unoc.permits($0) })
        #expect(data.firstRange(of: Data([0x43, 0x6C, 0x69, 0xEB, 0x6E, 0x74, 0x65])) != nil, "Cliënte with ë as the Latin-1 byte EB")
        #expect(data.firstRange(of: Data("Cli\u{00EB}nte".utf8)) == nil, "no UTF-8")
        let text = String(decoding: data.map { $0 < 0x80 ? $0 : 0x2E }, as: UTF8.self)
        #expect(text.contains("Vragen?? Bel de coach"))
        #expect(text.contains("(ma?+di, 9?:00-12?:00 ?'spreekuur?')."))
        #expect(text.contains("Terugkoppeling - Fase 2 - matige stress"))
    }

    /// Every segment as the dialect lays it out, from a letter whose recipient has an address.
    @Test func segmentsFollowTheDialectsLayout() throws {
        var letter = Fixtures.returnLetter()
        letter.envelope.created = Fixtures.timestamp("2026-06-08T09:15:00Z")  // 11:15 in Amsterdam (summer time)
        let data = try Letters.write(letter, .unoa)
        let segments = try EDIFACTReader.segments(data)
        let reference = MEDVRIWriter.interchangeReference(for: letter.envelope.messageID)
        #expect(reference.count == 14 && reference.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) })

        #expect(
            String(decoding: data.prefix(200), as: UTF8.self)
                .hasPrefix("UNB+UNOA:1+500001111+500002222+260115:1030+\(reference)'\nUNH+\(reference)+MEDVRI:1'\n"))
        #expect(segments.map(\.tag).prefix(5) == ["UNB", "UNH", "GGA", "DET", "PID"])
        #expect(Array(segments.map(\.tag).suffix(3)) == ["GGO", "UNT", "UNZ"])
        #expect(!segments.contains { $0.tag == "PAD" })

        let byTag = Dictionary(segments.map { ($0.tag, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byTag["GGA"]?.elements == [["L. VISSER"], [""], ["STRESS EN BURN-OUT CENTRUM HAAGLANDEN"]])
        #expect(byTag["DET"]?.elements == [["26", "06", "08"], ["11", "15"]])
        #expect(byTag["PID"]?.elements == [["1984", "03", "21"], ["V"], ["VRIES", "DE", "", "", "", "SANNE"], [""], ["BSN999990019"]])
        #expect(
            byTag["GGO"]?.elements == [
                ["DR. A. JANSEN"], [""], ["HUISARTSENPRAKTIJK DE LINDE"], ["LINDELAAN", "12", "", "DEN HAAG", "2511AB"],
            ])
        #expect(byTag["UNT"]?.elements == [[String(segments.count - 2)], [reference]])
        #expect(byTag["UNZ"]?.elements == [["1"], [reference]])
    }

    @Test func theReferenceIsDerivedFromTheMessageID() throws {
        let first = MEDVRIWriter.interchangeReference(for: Fixtures.id("2e3f4a5b-6c7d-4e8f-8091-a2b3c4d5e6f7"))
        #expect(first == MEDVRIWriter.interchangeReference(for: Fixtures.id("2e3f4a5b-6c7d-4e8f-8091-a2b3c4d5e6f7")))
        #expect(first != MEDVRIWriter.interchangeReference(for: Fixtures.id("2e3f4a5b-6c7d-4e8f-8091-a2b3c4d5e6f8")))
        // Same input, same bytes: a resend is the same interchange.
        #expect(try Letters.write(.unoc) == Letters.write(.unoc))
    }

    @Test(arguments: [(Sex.male, "M"), (.female, "V"), (.other, "O"), (.unknown, "O")])
    func sexCodes(_ sex: Sex, _ code: String) throws {
        var letter = Letters.fase2()
        letter.patient.sex = sex
        letter.patient.name.prefix = nil
        let pid = try #require(try EDIFACTReader.segments(Letters.write(letter, .unoc)).first { $0.tag == "PID" })
        #expect(pid.elements[1] == [code])
        #expect(pid.elements[2] == ["Vries", "", "", "", "", "Sanne"])
    }

    /// Long words are cut at 70, lines break at spaces, empty lines stay, nothing is lost.
    @Test func longLinesWrapAtWordsAndOverlongWordsAreSplit() throws {
        var letter = Fixtures.returnLetter()
        let word = String(repeating: "abcdefghij", count: 15)
        let exact = String(repeating: "x", count: 69) + " tail"
        letter.soep.plan = "Zie \(word) en verder.\n\n\(exact)\n" + String(repeating: "woord ", count: 40)
        let data = try Letters.write(letter, .unoc)
        #expect(MEDVRICheck.problems(in: data) == [])
        let lines = try EDIFACTReader.segments(data).filter { $0.tag == "TXT" }.map { $0.component(0) ?? "" }
        #expect(lines.allSatisfy { $0.count <= 70 })
        let start = try #require(lines.firstIndex { $0.hasPrefix("Zie ") })
        #expect(
            Array(lines[start..<(start + 4)]) == [
                "Zie ", String(word.prefix(70)), String(word.dropFirst(70).prefix(70)), "abcdefghij en verder.",
            ])
        #expect(lines[start + 4] == "")
        #expect(lines[start + 5] == String(repeating: "x", count: 69) + " ")
        #expect(lines[start + 6] == "tail")
        let rendered = TextRenderer.render(LetterDocument(.returnLetter(letter)))
        #expect(try rejoin(lines, into: expectedLines(rendered, .unoc)))
    }

    @Test func everyCharacterIsWrittenInTheDeclaredSet() throws {
        var letter = Letters.fase2()
        letter.soep.objective = "Tab\there, € 5, “quotes” ‘x’ … naïve Straße ø æ — 😀 中 \u{00A0}nbsp \u{0007}bell @#_[]{}~|\\ `"
        letter.patient.name = PersonName(given: "Zoë", prefix: "’t", family: "Hoën")
        for charset in EDIFACTCharset.allCases {
            let data = try Letters.write(letter, charset)
            #expect(data.allSatisfy { $0 == 0x0A || charset.permits($0) })
            #expect(MEDVRICheck.problems(in: data) == [])
        }
        #expect(
            EDIFACTCharset.unoa.transliterate(letter.soep.objective)
                == "TAB HERE, EUR 5, \"QUOTES\" 'X' ... NAIVE STRASSE O AE - . .  NBSP .BELL ..-()()-// '")
        #expect(
            EDIFACTCharset.unoc.transliterate(letter.soep.objective)
                == "Tab here, EUR 5, \"quotes\" 'x' ... naïve Straße ø æ - . .  nbsp .bell @#_[]{}~|\\ `")
    }
}

/// The rendered text as the writer must carry it, worked out here independently of the
/// module: the three typographic characters the layout uses replaced, and for UNOA the
/// diacritics folded and everything upper-cased.
func expectedLines(_ rendered: String, _ charset: EDIFACTCharset) -> [String] {
    var lines = rendered.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    return lines.map { line in
        let plain = line.replacingOccurrences(of: "—", with: "-").replacingOccurrences(of: "–", with: "-")
            .replacingOccurrences(of: "•", with: "*")
        return charset == .unoa ? plain.folding(options: .diacriticInsensitive, locale: nil).uppercased() : plain
    }
}

/// Whether the TXT lines, a paragraph's wrapped lines joined again (the writer leaves the
/// breaking space at the end of a line), give exactly `expected`, line for line.
func rejoin(_ lines: [String], into expected: [String]) throws -> Bool {
    var next = 0
    for line in expected {
        var joined = ""
        repeat {
            guard next < lines.count else { return false }
            joined += lines[next]
            next += 1
        } while joined.count < line.count
        if joined != line { return false }
    }
    return next == lines.count
}
