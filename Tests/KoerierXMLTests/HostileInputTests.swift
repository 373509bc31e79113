import Foundation
import KoerierModel
import KoerierTestSupport
import KoerierXML
import Testing

@Suite(.ownThreads) struct HostileInputTests {
    @Test func theTableCoversEveryInvalidSampleAndNoMore() throws {
        let table = try InvalidSampleTable.load()
        #expect(table.count >= 15)
        #expect(Set(table.map(\.file)) == Set(Repository.invalidSampleFiles.map(\.lastPathComponent)))
    }

    @Test(arguments: try InvalidSampleTable.load())
    func invalidSampleIsRejectedWithItsDocumentedError(_ expected: InvalidSampleExpectation) throws {
        let data = try Repository.data(Repository.invalidSamples.appendingPathComponent(expected.file))
        let problems = sharedCodec.problems(in: data)
        let first = try #require(problems.first)
        #expect(first.rule == expected.rule)
        #expect(first.line == expected.line)
        let said = (first.field.map { "\($0): " } ?? "") + first.message
        #expect(said.hasPrefix(expected.messagePrefix), "\(said)")
    }

    @Test func externalEntitiesAreNeverResolved() throws {
        let data = try Repository.data(Repository.invalidSamples.appendingPathComponent("xxe-external-entity.xml"))
        let problems = sharedCodec.problems(in: data)
        #expect(problems.map(\.rule) == ["no-dtd"])
        #expect(!problems.description.contains("root:"))
    }

    @Test func aMessageOverTheSizeLimitIsRefusedBeforeParsing() throws {
        let codec = try MessageCodec(schemaDirectory: Repository.schemas, limits: XMLLimits(maxMessageBytes: 4096))
        let valid = try Repository.data(Repository.samples.appendingPathComponent("return-letter-fase-2.xml"))
        #expect(codec.problems(in: valid).isEmpty)
        var padded = valid
        padded.append(Data(repeating: 0x20, count: 4096))
        #expect(codec.problems(in: padded).map(\.rule) == ["size-limit"])
        // The default limit (4 MiB) with a generated 5 MiB message.
        let huge = Data("<ReturnLetter xmlns=\"urn:koerier:return-letter:1\">".utf8) + Data(repeating: 0x41, count: 5 * 1024 * 1024)
        #expect(sharedCodec.problems(in: huge).map(\.rule) == ["size-limit"])
    }

    /// 200,000 attributes on the root (2.3 MB) kept libxml2 busy for minutes, comparing each
    /// with every earlier one; the scan before parsing refuses the element at its 33rd.
    @Test func anAttributeFloodIsRefusedByTheScanBeforeLibxml2() {
        let attributes = (0..<200_000).map { " a\($0)=\"x\"" }.joined()
        let xml = "<ReturnLetter xmlns=\"urn:koerier:return-letter:1\"\(attributes)/>"
        #expect(xml.utf8.count > 2_000_000)
        let problems = sharedCodec.problems(in: Data(xml.utf8))
        #expect(problems.map(\.rule) == ["attribute-limit"])
        #expect(problems.first?.message.contains("more than 32 attributes") == true)
        // Spread over many elements, the whole message's bound applies.
        let spread = (0..<5000).map { _ in "<x a=\"1\" b=\"2\"/>" }.joined()
        let many = "<ReturnLetter xmlns=\"urn:koerier:return-letter:1\">\(spread)</ReturnLetter>"
        #expect(sharedCodec.problems(in: Data(many.utf8)).map(\.rule) == ["attribute-limit"])
    }

    /// libxml2 stopped at a NUL as if the document ended there: a valid letter followed by a
    /// NUL and anything at all was accepted, and the stored bytes held data nobody validated.
    @Test func aNulByteAnywhereIsRefused() throws {
        let valid = try Repository.data(Repository.samples.appendingPathComponent("return-letter-fase-2.xml"))
        #expect(sharedCodec.problems(in: valid).isEmpty)
        var smuggled = valid
        smuggled.append(0)
        smuggled.append(Data("<script>anything</script>".utf8))
        #expect(sharedCodec.problems(in: smuggled).map(\.rule) == ["nul-byte"])
        var inside = valid
        inside.insert(0, at: inside.count / 2)
        #expect(sharedCodec.problems(in: inside).map(\.rule) == ["nul-byte"])
        // And anything else after the root element is still refused by libxml2.
        var trailing = valid
        trailing.append(Data("<more/>".utf8))
        #expect(sharedCodec.problems(in: trailing).map(\.rule) == ["well-formed"])
    }

    @Test func overlongNamesAndTextsAreRefused() {
        let codec = try? MessageCodec(schemaDirectory: Repository.schemas, limits: XMLLimits(maxTextBytes: 1000))
        let longName = "<ReturnLetter xmlns=\"urn:koerier:return-letter:1\"><\(String(repeating: "n", count: 300))/></ReturnLetter>"
        #expect(sharedCodec.problems(in: Data(longName.utf8)).map(\.rule) == ["name-limit"])
        let longText = "<ReturnLetter xmlns=\"urn:koerier:return-letter:1\">\(String(repeating: "t", count: 1001))</ReturnLetter>"
        #expect(codec?.problems(in: Data(longText.utf8)).map(\.rule) == ["text-limit"])
        let longValue = "<ReturnLetter xmlns=\"urn:koerier:return-letter:1\" a=\"\(String(repeating: "v", count: 1001))\"/>"
        #expect(codec?.problems(in: Data(longValue.utf8)).map(\.rule) == ["text-limit"])
    }

    @Test func deepNestingStopsAtTheDepthBound() {
        let depth = 10_000
        let xml =
            "<ReturnLetter xmlns=\"urn:koerier:return-letter:1\">" + String(repeating: "<a>", count: depth)
            + String(repeating: "</a>", count: depth) + "</ReturnLetter>"
        #expect(sharedCodec.problems(in: Data(xml.utf8)).map(\.rule) == ["depth-limit"])
    }

    @Test func aParserWhoseDictionaryOutgrewTheBoundIsDroppedAndLaterParsesWork() throws {
        // Each document interns new names in the reused parser's dictionary; past the bound
        // the context is dropped rather than reused. Later valid messages must still parse.
        let parser = HardenedParser()
        let valid = try Repository.data(Repository.samples.appendingPathComponent("return-letter-intake.xml"))
        for _ in 0..<20 { _ = try parser.parse(valid) }
        #expect(parser.contextsDroppedForDictionarySize == 0, "ordinary messages must not cost a context")
        for batch in 0..<3 {
            let names = (0..<3000).map { "<n\(batch)x\($0)/>" }.joined()
            _ = try parser.parse(Data("<ReturnLetter xmlns=\"urn:koerier:return-letter:1\">\(names)</ReturnLetter>".utf8))
        }
        #expect(parser.contextsDroppedForDictionarySize >= 1)
        _ = try parser.parse(valid)
        #expect(sharedCodec.problems(in: valid).isEmpty)
    }

    @Test func garbageNeverCrashesAndWhatXmllintRejectsKoerierRejects() throws {
        var random = TextGenerator(seed: 42)
        let valid = try Repository.data(Repository.samples.appendingPathComponent("referral-huisarts.xml"))
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        var koerierRejects: [String: Bool] = [:]
        for round in 0..<300 {
            // Flip, drop or insert bytes at random places in a valid message.
            var bytes = [UInt8](valid)
            for _ in 0..<Int(random.next() % 8 + 1) {
                let index = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 3 {
                case 0: bytes[index] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: index)
                }
            }
            let problems = sharedCodec.problems(in: Data(bytes))
            // Rejected with located problems, or accepted as a whole.
            #expect(problems.allSatisfy { $0.line >= 1 && !$0.message.isEmpty })
            let name = "m\(1000 + round).xml"
            try Data(bytes).write(to: folder.appendingPathComponent(name))
            koerierRejects[name] = !problems.isEmpty
        }
        // xmllint (libxml2's own command, no Koerier code) judges the same bytes by the schema.
        let names = koerierRejects.keys.sorted()
        let xmllint = try ProcessRunner.run(
            "/usr/bin/xmllint",
            ["--noout", "--nonet", "--schema", Repository.schemas.appendingPathComponent("referral.xsd").path] + names,
            currentDirectory: folder)
        let schemaValid = Set(xmllint.stderr.split(separator: "\n").filter { $0.hasSuffix(" validates") }.map { String($0.dropLast(10)) })
        #expect(schemaValid.count < names.count / 2, "the corruption is too mild to test anything")
        for name in names where !schemaValid.contains(name) {
            #expect(koerierRejects[name] == true, "\(name): xmllint rejects it, Koerier accepted it")
        }
    }

    @Test func decodingIsSafeFromManyThreadsAtOnce() async throws {
        let files = Repository.validSampleFiles + Repository.invalidSampleFiles
        let inputs = try files.map { ($0.lastPathComponent, try Repository.data($0)) }
        let expected = Dictionary(uniqueKeysWithValues: inputs.map { ($0.0, sharedCodec.problems(in: $0.1).map(\.rule)) })
        try await withThrowingTaskGroup(of: (String, [String]).self) { group in
            for round in 0..<8 {
                for (name, data) in inputs.shuffled() where round >= 0 {
                    group.addTask { (name, sharedCodec.problems(in: data).map(\.rule)) }
                }
            }
            for try await (name, rules) in group {
                #expect(rules == expected[name], "\(name)")
            }
        }
    }

    @Test func schemaFolderProblemsAreReportedWithTheFile() throws {
        let empty = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect {
            try SchemaSet(directory: empty)
        } throws: { error in
            String(describing: error).contains("referral.xsd")
        }
        try "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:element name=\"x\" type=\"nope\"/></xs:schema>"
            .write(to: empty.appendingPathComponent("referral.xsd"), atomically: true, encoding: .utf8)
        #expect {
            try SchemaSet(directory: empty)
        } throws: { error in
            String(describing: error).contains("referral.xsd:1:")
        }
    }
}
