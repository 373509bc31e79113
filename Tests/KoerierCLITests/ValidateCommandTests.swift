import Foundation
import KoerierTestSupport
import Testing

@Suite(.ownThreads) struct ValidateCommandTests {
    private let config = Repository.config.path

    @Test func everyValidSampleIsValid() throws {
        let files = Repository.validSampleFiles.map(\.path)
        let result = try ProcessRunner.koerier(["validate", "--config", config] + files)
        #expect(result.exitCode == 0, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == files.count)
        #expect(lines.allSatisfy { $0.contains(": valid ") })
    }

    @Test(arguments: try InvalidSampleTable.load())
    func invalidSamplePrintsFileLineFieldAndRule(_ expected: InvalidSampleExpectation) throws {
        let path = Repository.invalidSamples.appendingPathComponent(expected.file).path
        let result = try ProcessRunner.koerier(["validate", "--config", config, path])
        #expect(result.exitCode == 1)
        let first = try #require(result.stdout.split(separator: "\n").first.map(String.init))
        #expect(first.hasPrefix("\(path):\(expected.line): \(expected.messagePrefix)"), "\(first)")
        #expect(first.hasSuffix("[\(expected.rule)]"), "\(first)")
    }

    @Test func aMixOfValidAndInvalidFilesReportsEachAndExitsOne() throws {
        let valid = Repository.samples.appendingPathComponent("return-letter-intake.xml").path
        let invalid = Repository.invalidSamples.appendingPathComponent("bsn-elfproef.xml").path
        let missing = "/nonexistent/letter.xml"
        let result = try ProcessRunner.koerier(["validate", "--config", config, valid, invalid, missing])
        #expect(result.exitCode == 1)
        #expect(result.stdout.contains("\(valid): valid return-letter"))
        #expect(result.stdout.contains("\(invalid):25: Patient/BSN: BSN fails the elfproef (11-test) [bsn-elfproef]"))
        #expect(result.stdout.contains("\(missing): cannot read the file"))
        let quiet = try ProcessRunner.koerier(["validate", "--config", config, "--quiet", valid])
        #expect(quiet.exitCode == 0 && quiet.stdout.isEmpty)
    }

    @Test func everyProblemOfAFileIsListedOnItsOwnLine() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = try String(contentsOf: Repository.samples.appendingPathComponent("return-letter-fase-2.xml"), encoding: .utf8)
        let broken = original.replacingOccurrences(of: "<Total>7</Total>", with: "<Total>70</Total>")
            .replacingOccurrences(of: "<Distress>15</Distress>", with: "<Distress>33</Distress>")
            .replacingOccurrences(of: "<Phase>fase-2</Phase>", with: "<Phase>fase-9</Phase>")
        let file = folder.appendingPathComponent("three-problems.xml")
        try broken.write(to: file, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.koerier(["validate", "--config", config, file.path])
        #expect(result.exitCode == 1)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { $0.hasPrefix("\(file.path):") && $0.hasSuffix("[schema]") })
        #expect(lines.contains { $0.contains(":34: Phase:") })
        #expect(lines.contains { $0.contains("Measurements/FourDKL/Distress:") })
        #expect(lines.contains { $0.contains("Measurements/PHQ9/Total:") })
    }
}
