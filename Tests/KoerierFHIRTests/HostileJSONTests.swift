import Foundation
import KoerierFHIR
import KoerierTestSupport
import Testing

/// Hostile bodies must give problems, never a crash, a hang or deep recursion, and fast.
@Suite struct HostileJSONTests {
    private func refused(_ data: Data, limits: FHIRLimits = .standard) -> (rules: [String], paths: [String], seconds: Double) {
        var problems: [FHIRProblem] = []
        let seconds = elapsedSeconds { problems = FHIRSamples.problems(data, limits: limits) }
        for problem in problems { #expect(FHIRSamples.leaks(problem.description).isEmpty, "\(problem)") }
        return (problems.map(\.rule), problems.map(\.path), seconds)
    }

    @Test func aMegabyteOfOpeningBracketsStopsAtTheDepthLimit() {
        let result = refused(Data(repeating: UInt8(ascii: "["), count: 1_000_000))
        #expect(result.rules == ["depth-limit"])
        #expect(result.seconds < 1)
    }

    @Test func tenThousandNestedObjectsStopAtTheDepthLimit() {
        let text = String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        let result = refused(Data(text.utf8))
        #expect(result.rules == ["depth-limit"])
        #expect(result.seconds < 1)
    }

    @Test func aDepthLimitAboveTheParsersOwnBoundIsClamped() {
        let text = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(refused(Data(text.utf8), limits: FHIRLimits(maxDepth: 1_000_000)).rules == ["depth-limit"])
    }

    @Test func anOversizedBodyIsRefusedBeforeItIsParsed() {
        let result = refused(Data(repeating: UInt8(ascii: "["), count: 3 * 1024 * 1024))
        #expect(result.rules == ["size-limit"])
        #expect(result.seconds < 0.5)
        #expect(refused(Data("{}".utf8), limits: FHIRLimits(maxBytes: 1)).rules == ["size-limit"])
    }

    @Test func hugeStringsAreBoundedByTheLimits() throws {
        let name = String(repeating: "x", count: 1_500_000)
        let bigName = try FHIRSamples.referralLetter([("\"family\": \"de Vries\"", "\"family\": \"\(name)\"")])
        let result = refused(bigName)
        #expect(result.rules == ["value-too-long"])
        #expect(result.paths == ["Bundle.entry[1].resource.name[0].family"])
        #expect(result.seconds < 3)

        let bigText = try FHIRSamples.referralLetter([("<p>Geen.</p>", "<p>\(String(repeating: "ab &amp; ", count: 150_000))</p>")])
        let text = refused(bigText)
        #expect(text.rules == ["text-too-long"])
        #expect(text.seconds < 3)
        // A huge string where nothing reads it is only bounded by the body size.
        let ignored = try FHIRSamples.referralLetter([("\"status\": \"final\"", "\"status\": \"final\", \"x\": \"\(name)\"")])
        #expect(throws: Never.self) { try FHIRSamples.read(ignored) }
    }

    @Test func bodiesThatAreNotUTF8AreRefused() throws {
        #expect(refused(Data([0xFF, 0xFE, 0x7B, 0x00, 0x7D, 0x00])).rules == ["json-encoding"])
        var latin1 = try FHIRSamples.data("referral-letter.json")
        let position = try #require(latin1.firstRange(of: Data("Cli\u{00EB}nte".utf8)))
        latin1.replaceSubrange(position, with: [0x43, 0x6C, 0x69, 0xEB, 0x6E, 0x74, 0x65])
        #expect(refused(latin1).rules == ["json-encoding"])
        // Overlong encodings and encoded surrogates are not UTF-8 either.
        #expect(refused(Data([0x22, 0xC0, 0xAF, 0x22])).rules == ["json-encoding"])
        #expect(refused(Data([0x22, 0xED, 0xA0, 0x80, 0x22])).rules == ["json-encoding"])
    }

    @Test func duplicateMemberNamesAreRefused() {
        let result = refused(Data(#"{"resourceType": "Bundle", "type": "document", "resourceType": "Patient"}"#.utf8))
        #expect(result.rules == ["json-duplicate-key"])
        #expect(result.paths == ["Bundle.resourceType"])
        // Member names that are not element names are never echoed.
        let hidden = refused(Data(#"{"entry": [{"Sanne de Vries": 1, "Sanne de Vries": 2}]}"#.utf8))
        #expect(hidden.paths == ["Bundle.entry[0].?"])
    }

    @Test(arguments: [
        "", "   ", "{", "}", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "01", "1e",
        "-", "1.", "nul", "tru", "[] []", "\"\u{01}\"", "\"\\x\"", "\"\\u12G4\"", "\"abc", "{\"a\":\"b\"\"c\"}", "\u{00}",
        "[" + String(repeating: "1", count: 65) + "]",
    ])
    func malformedJSONIsOneSyntaxProblem(_ text: String) {
        let result = refused(Data(text.utf8))
        #expect(result.rules == ["json-syntax"])
    }

    @Test func wellFormedJSONThatIsNotABundleIsAShapeProblem() {
        for text in ["null", "1", "\"Bundle\"", "[]", "{}", #"{"resourceType": 1}"#] {
            #expect(refused(Data(text.utf8)).rules == ["resource-type"], "\(text)")
        }
        // Escapes, surrogate pairs and a byte order mark are accepted JSON.
        let escaped = Data(
            [0xEF, 0xBB, 0xBF]
                + Array(#"{"resourceType": "Bundle", "id": "\u0061\ud83d\ude00", "a": [1.5e-3, -0, true, false, null]}"#.utf8))
        #expect(refused(escaped).rules == ["bundle-type", "bundle-id", "composition-first"])
    }

    /// Random damage to a valid Bundle: every variant is read or refused with problems,
    /// none crashes, none takes long, none echoes the patient.
    @Test func damagedBundlesNeverCrash() throws {
        let original = [UInt8](try FHIRSamples.data("referral-letter.json"))
        var generator = TextGenerator(seed: 0xF417)
        var accepted = 0
        let seconds = elapsedSeconds {
            for round in 0..<1500 {
                var bytes = original
                switch round % 4 {
                case 0: bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count))))
                case 1:
                    for _ in 0..<(1 + generator.next() % 4) {
                        bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
                    }
                case 2:
                    let position = Int(generator.next() % UInt64(bytes.count))
                    let markup = Array("{[\"\\,:}]".utf8)
                    bytes.insert(markup[Int(generator.next() % UInt64(markup.count))], at: position)
                default:
                    let position = Int(generator.next() % UInt64(bytes.count))
                    bytes.removeSubrange(position..<min(bytes.count, position + Int(generator.next() % 40)))
                }
                do throws(FHIRProblems) {
                    _ = try FHIRSamples.read(Data(bytes))
                    accepted += 1
                } catch {
                    #expect(!error.problems.isEmpty)
                    for problem in error.problems {
                        // A byte offset is no patient value, but may read "1984".
                        let text = problem.description.replacing(/at byte [0-9]+/, with: "")
                        #expect(FHIRSamples.leaks(text).isEmpty, "\(problem)")
                        #expect(problem.path.hasPrefix("Bundle"))
                    }
                }
            }
        }
        #expect(accepted < 1500)
        #expect(seconds < 30, "took \(seconds) s")
    }
}
