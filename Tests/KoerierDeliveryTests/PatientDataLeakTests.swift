import Foundation
import KoerierTestSupport
import Testing

@testable import KoerierWorkflow

/// No patient data in logs or error texts: every invalid and hostile sample goes through
/// `koerier validate`, the drop folder of a real `koerier serve` and its intake, and
/// everything they print, answer or write beside a rejected file is searched for the
/// samples' BSNs, names and dates.
@Suite(.serialized, .ownThreads) struct PatientDataLeakTests {
    /// BSNs, given and family names and every date (YYYY-MM-DD) in the samples.
    static func patientData() throws -> Set<String> {
        var found: Set<String> = []
        let files = Repository.validSampleFiles + Repository.invalidSampleFiles + Repository.signedSampleFiles
        for file in files {
            let text = String(decoding: try Data(contentsOf: file), as: UTF8.self)
            for match in text.matches(of: /<(?:BSN|Given|Family)>([^<]+)</) { found.insert(String(match.1)) }
            for match in text.matches(of: /[12][0-9]{3}-[01][0-9]-[0-3][0-9]/) { found.insert(String(match.0)) }
        }
        // Dates the messages carry as metadata (created, received) are not patient data, but
        // they share the format; keeping them makes the search stricter, not weaker.
        return found.filter { $0.count >= 3 }
    }

    static func leaks(in text: String, of data: Set<String>) -> [String] {
        data.filter { text.contains($0) }.sorted()
    }

    @Test func validateNamesFieldsAndRulesButNoValues() throws {
        let data = try Self.patientData()
        #expect(data.contains("999990019") && data.contains("Sanne") && data.contains("1984-03-21"))
        for file in Repository.invalidSampleFiles {
            let result = try ProcessRunner.koerier(["validate", "--config", Repository.config.path, file.path])
            #expect(result.exitCode != 0, "\(file.lastPathComponent) was accepted")
            let said = result.stdout + result.stderr
            #expect(Self.leaks(in: said, of: data).isEmpty, "\(file.lastPathComponent): \(Self.leaks(in: said, of: data)) in \(said)")
        }
    }

    @Test func theDropFolderIntakeAndLogNameNoPatientData() async throws {
        let data = try Self.patientData()
        let centre = try ServeTests.Centre()
        try await centre.start()
        let inbox = centre.rig.folder.appendingPathComponent("inbox")
        var answers = ""
        for file in Repository.invalidSampleFiles {
            try ServeTests.drop(file, into: inbox, as: file.lastPathComponent)
            let answer = try centre.post(try Data(contentsOf: file), as: "gp")
            #expect(answer.status >= 400 || answer.body.contains("<Rejected"), "\(file.lastPathComponent): \(answer.status)")
            answers += answer.body + "\n"
        }
        let rejected = inbox.appendingPathComponent("rejected")
        try await Polling.until("every dropped file to be rejected") {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: rejected.path)) ?? []
            return names.filter { $0.hasSuffix(".error") }.count == Repository.invalidSampleFiles.count
        }
        var errors = ""
        for name in try FileManager.default.contentsOfDirectory(atPath: rejected.path) where name.hasSuffix(".error") {
            errors += try String(contentsOf: rejected.appendingPathComponent(name), encoding: .utf8)
        }
        #expect(!errors.isEmpty && !answers.isEmpty)
        #expect(Self.leaks(in: errors, of: data).isEmpty, "in .error files: \(Self.leaks(in: errors, of: data))")
        #expect(Self.leaks(in: answers, of: data).isEmpty, "in intake answers: \(Self.leaks(in: answers, of: data))")
        let log = centre.log
        #expect(Self.leaks(in: log, of: data).isEmpty, "in the log: \(Self.leaks(in: log, of: data))")
        let audit = try centre.audit().map { "\($0)" }.joined(separator: "\n")
        #expect(Self.leaks(in: audit, of: data).isEmpty, "in the audit log: \(Self.leaks(in: audit, of: data))")
    }

    /// A practitioner's report with wrong values: the refusals (422 bodies, CLI stderr) name
    /// the field and rule, never the value typed in (a date of birth, a name in a status).
    @Test func phaseReportRefusalsNameTheFieldNotTheValue() throws {
        let file = Repository.samples.appendingPathComponent("phase-reports/fase-1.json")
        let original = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        func refusal(_ change: (inout [String: Any]) -> Void) throws -> String {
            var object = original
            change(&object)
            do {
                _ = try PhaseReport.decode(try JSONSerialization.data(withJSONObject: object)).clinicalContent()
                return ""
            } catch {
                return "\(error)"
            }
        }
        var period = original["period"] as? [String: Any] ?? [:]
        period["start"] = "1984-13-02 Sanne de Vries"
        let date = try refusal { $0["period"] = period }
        #expect(date.contains("period.start") && !date.contains("1984") && !date.contains("Sanne"), "\(date)")
        let urgency = try refusal { $0["soep"] = "Sanne de Vries 1984-03-02" }
        #expect(!urgency.isEmpty && !urgency.contains("Sanne") && !urgency.contains("1984"), "\(urgency)")
        if var goals = original["goals"] as? [[String: Any]], !goals.isEmpty {
            goals[0]["status"] = "Sanne-de-Vries"
            let status = try refusal { $0["goals"] = goals }
            #expect(status.contains("goals[0].status") && !status.contains("Sanne"), "\(status)")
        }
    }
}
