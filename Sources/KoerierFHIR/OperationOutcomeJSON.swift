import Foundation

/// The answer to a refused Bundle: a FHIR STU3 OperationOutcome (application/fhir+json)
/// with one error issue per problem. Problems carry no patient data, so neither does this.
public enum OperationOutcomeJSON {
    public static func make(_ problems: [FHIRProblem]) -> Data {
        let issues: [JSONValue] =
            problems.isEmpty
            ? [["severity": "information", "code": "informational", "diagnostics": "no problems"]]
            : problems.map { problem in
                [
                    "severity": "error", "code": .string(issueCode(for: problem.rule)),
                    "diagnostics": .string("\(problem.rule): \(problem.message)"),
                    "expression": [.string(problem.path)], "location": [.string(problem.path)],
                ]
            }
        return Data(JSONWriter.bytes(["resourceType": "OperationOutcome", "issue": .array(issues)], pretty: false))
    }

    /// The STU3 IssueType that fits a rule (http://hl7.org/fhir/issue-type).
    static func issueCode(for rule: String) -> String {
        switch rule {
        case "json-syntax", "json-encoding", "json-duplicate-key", "resource-type", "composition-first", "reference-unresolved",
            "reference-type", "duplicate-fullurl", "value-type", "incomplete":
            return "structure"
        case "depth-limit", "entry-limit": return "too-costly"
        case "size-limit", "text-too-long", "value-too-long": return "too-long"
        case "required": return "required"
        case "document-type-unsupported": return "not-supported"
        case "identifier-system", "identifier-duplicate", "bsn-elfproef", "bsn-format", "agb-format", "ura-format",
            "zd-number-format", "gender-code", "priority-code", "date-format", "datetime-zone", "datetime-format", "bundle-id",
            "bundle-type", "value-format":
            return "value"
        default:
            // The model's own rules (dates, ranges, parties): the content breaks a business rule.
            return "business-rule"
        }
    }
}
