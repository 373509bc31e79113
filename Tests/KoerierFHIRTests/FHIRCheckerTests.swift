import Foundation
import KoerierFHIR
import KoerierModel
import KoerierTestSupport
import Testing

/// An independent check: `fhir.resources` (PyPI) validates every Bundle the samples hold
/// and the writer makes against the STU3 models. It does not check code values, so the
/// script adds checks of its own (gender and status codes, Bundle.type, Composition first,
/// identifier systems, the BSN's elfproef, references that resolve inside the Bundle).
@Suite(.serialized, .ownThreads) struct FHIRCheckerTests {
    /// Tests/Peers/fhir_check.py, shared with the delivery tests and the walkthrough's test.
    static let script = Repository.root.appendingPathComponent("Tests/Peers/fhir_check.py").path

    /// The checker's verdict per file: empty when it found nothing wrong.
    static func check(_ files: [URL]) async throws -> [String: [String]] {
        let python = try await ProcessRunner.offPool {
            try PythonTool.ensure(package: "fhir.resources==8.3.0", module: "fhir.resources")
        }
        let result = try await ProcessRunner.runOffPool(python, [script] + files.map(\.path))
        try #require(result.exitCode == 0, "\(result.stderr)")
        let decoded = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: [String]]
        return try #require(decoded)
    }

    /// Letters the writer makes, written to files in `folder`.
    static func writtenLetters(in folder: URL) throws -> [URL] {
        var correction = Fixtures.returnLetter()
        correction.envelope.documentKind = .terugkoppelingCorrectie
        correction.corrects = Fixtures.id("4a4a4a4a-1b1b-4c2c-8d3d-5e5e5e5e5e5e")
        var bare = Fixtures.returnLetter()
        bare.measurements = Measurements()
        bare.goals = []
        bare.envelope.sender.practitioner = nil
        bare.envelope.sender.address = Address(street: "Laan van Meerdervoort", houseNumber: "5a", postalCode: "2517 AA", city: "Den Haag")
        bare.envelope.transactionID = try TransactionID("ZP123456789")
        bare.patient.name.prefix = nil
        bare.patient.sex = .unknown
        let letters = [try Fase2Letter.model(), Fixtures.returnLetter(), correction, bare]
        return try letters.enumerated().map { position, letter in
            let file = folder.appendingPathComponent("letter-\(position).json")
            try FHIRReturnLetter.bundle(letter, preparedAt: Fase2Letter.preparedAt).write(to: file)
            return file
        }
    }

    @Test func samplesWrittenLettersAndOutcomesPassTheIndependentChecker() async throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        var files = FHIRSamples.validBundles.map { FHIRSamples.folder.appendingPathComponent($0) } + [FHIRSamples.fase2Letter]
        files += try Self.writtenLetters(in: folder)
        for row in try InvalidBundleExpectation.load() {
            let data = try Data(contentsOf: FHIRSamples.invalidFolder.appendingPathComponent(row.file))
            let file = folder.appendingPathComponent("outcome-" + row.file)
            try OperationOutcomeJSON.make(FHIRSamples.problems(data)).write(to: file)
            files.append(file)
        }
        let verdicts = try await Self.check(files)
        #expect(verdicts.count == files.count)
        for file in files {
            #expect(verdicts[file.path] == [], "\(file.lastPathComponent): \(verdicts[file.path] ?? ["no verdict"])")
        }
    }

    /// The checker must have teeth: each broken Bundle is flagged.
    @Test func theCheckerFlagsBrokenBundles() async throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let letter = try String(contentsOf: FHIRSamples.fase2Letter, encoding: .utf8)
        let breakages: [(String, String)] = [
            ("\"gender\": \"female\"", "\"gender\": \"vrouw\""),
            ("\"type\": \"document\"", "\"type\": \"collection\""),
            ("\"system\": \"http://fhir.nl/fhir/NamingSystem/bsn\"", "\"system\": \"urn:oid:2.16.840.1.113883.2.4.6.3\""),
            ("\"value\": \"999990019\"", "\"value\": \"123456789\""),
            (
                "\"valueQuantity\": {\n          \"code\": \"{score}\",\n          \"system\": \"http://unitsofmeasure.org\",\n          \"unit\": \"score\",\n          \"value\": 7\n        }",
                "\"valueInteger\": 7"
            ),
            ("\"title\": \"Terugkoppeling — Fase 2 – matige stress en burn-outklachten\",", ""),
            ("\"status\": \"final\",\n        \"subject\"", "\"status\": \"definitief\",\n        \"subject\""),
        ]
        var files = [FHIRSamples.invalidFolder.appendingPathComponent("composition-not-first.json")]
        for (position, (old, new)) in breakages.enumerated() {
            #expect(letter.contains(old), "the sample no longer contains \(old)")
            let file = folder.appendingPathComponent("broken-\(position).json")
            try letter.replacingOccurrences(of: old, with: new).write(to: file, atomically: true, encoding: .utf8)
            files.append(file)
        }
        let verdicts = try await Self.check(files)
        for file in files {
            #expect(verdicts[file.path]?.isEmpty == false, "\(file.lastPathComponent) passed the checker")
        }
    }
}
