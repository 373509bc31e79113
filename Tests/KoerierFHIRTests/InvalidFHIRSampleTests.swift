import Foundation
import KoerierFHIR
import KoerierTestSupport
import Testing

/// One row of `Samples/fhir/invalid/README.md`.
struct InvalidBundleExpectation: CustomStringConvertible, Sendable {
    let file: String
    let rule: String
    let path: String
    var description: String { file }

    /// The table's rows; a malformed row fails loudly rather than being skipped.
    static func load() throws -> [InvalidBundleExpectation] {
        let text = try String(contentsOf: FHIRSamples.invalidFolder.appendingPathComponent("README.md"), encoding: .utf8)
        return try text.split(separator: "\n").filter { $0.hasPrefix("| `") }.map { line in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " `")) }
            guard cells.count >= 3, cells[0].hasSuffix(".json") else { throw MalformedRow(row: String(line)) }
            return InvalidBundleExpectation(file: cells[0], rule: cells[1], path: cells[2])
        }
    }

    struct MalformedRow: Error, CustomStringConvertible {
        let row: String
        var description: String { "malformed row in Samples/fhir/invalid/README.md: \(row)" }
    }
}

@Suite struct InvalidFHIRSampleTests {
    static let rows = (try? InvalidBundleExpectation.load()) ?? []

    @Test func theTableListsEveryBundleSampleAndNoOther() throws {
        let rows = try InvalidBundleExpectation.load()
        let files = try FileManager.default.contentsOfDirectory(atPath: FHIRSamples.invalidFolder.path).filter { $0.hasSuffix(".json") }
        #expect(rows.map(\.file).sorted() == files.sorted())
        #expect(rows.count >= 6)
    }

    @Test(arguments: rows)
    func eachHostileSampleGivesItsRuleAtItsPath(_ row: InvalidBundleExpectation) throws {
        let data = try Data(contentsOf: FHIRSamples.invalidFolder.appendingPathComponent(row.file))
        var problems: [FHIRProblem] = []
        let seconds = elapsedSeconds { problems = FHIRSamples.problems(data) }
        #expect(problems.contains { $0.rule == row.rule && $0.path == row.path }, "\(problems)")
        #expect(seconds < 2, "took \(seconds) s")
        for problem in problems {
            #expect(FHIRSamples.leaks(problem.description).isEmpty, "\(problem) echoes a patient value")
        }
        let outcome = String(decoding: OperationOutcomeJSON.make(problems), as: UTF8.self)
        #expect(FHIRSamples.leaks(outcome).isEmpty)
        #expect(outcome.contains(row.path))
    }
}
