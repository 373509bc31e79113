import Foundation
import KoerierFHIR
import Testing

@Suite struct OperationOutcomeTests {
    @Test func eachProblemIsAnErrorIssue() throws {
        let problems = [
            FHIRProblem(
                path: "Bundle.entry[1].resource.identifier[0].value", rule: "bsn-elfproef", message: "BSN fails the elfproef (11-test)"),
            FHIRProblem(path: "Bundle", rule: "depth-limit", message: "JSON nesting is deeper than 32 levels (at byte 70)"),
            FHIRProblem(path: "Bundle.entry[0].resource.type.coding[0].code", rule: "document-type-unsupported", message: "…"),
            FHIRProblem(path: "Bundle.entry[1].resource.birthDate", rule: "date-after-created", message: "…"),
        ]
        let data = OperationOutcomeJSON.make(problems)
        let outcome = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(outcome["resourceType"] as? String == "OperationOutcome")
        let issues = try #require(outcome["issue"] as? [[String: Any]])
        #expect(issues.map { $0["severity"] as? String } == ["error", "error", "error", "error"])
        #expect(issues.map { $0["code"] as? String } == ["value", "too-costly", "not-supported", "business-rule"])
        #expect(issues[0]["diagnostics"] as? String == "bsn-elfproef: BSN fails the elfproef (11-test)")
        #expect(issues[0]["expression"] as? [String] == ["Bundle.entry[1].resource.identifier[0].value"])
        #expect(issues[0]["location"] as? [String] == ["Bundle.entry[1].resource.identifier[0].value"])
        #expect(data == OperationOutcomeJSON.make(problems))
    }

    @Test func noProblemsIsAnInformationalOutcome() throws {
        let outcome = try #require(try JSONSerialization.jsonObject(with: OperationOutcomeJSON.make([])) as? [String: Any])
        let issues = try #require(outcome["issue"] as? [[String: Any]])
        #expect(issues.count == 1)
        #expect(issues[0]["severity"] as? String == "information")
    }
}
