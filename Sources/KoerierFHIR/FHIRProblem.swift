/// One reason a Bundle was refused (or a letter could not be written). `path` is
/// FHIRPath-like (`Bundle.entry[0].resource.identifier.system`), `rule` a short stable
/// name, `message` fixed wording. Neither ever carries a value from the input: a problem
/// is logged and sent back to the sender, and patient data must not travel that way.
public struct FHIRProblem: Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let rule: String
    public let message: String

    public init(path: String, rule: String, message: String) {
        self.path = path
        self.rule = rule
        self.message = message
    }

    public var description: String { "\(path): \(message) [\(rule)]" }
}

/// Every problem found in one stage of reading (or writing): callers see all of them at
/// once rather than fixing one per round trip.
public struct FHIRProblems: Error, Sendable, Equatable, CustomStringConvertible {
    public let problems: [FHIRProblem]

    public init(_ problems: [FHIRProblem]) { self.problems = problems }

    init(path: String, rule: String, message: String) {
        problems = [FHIRProblem(path: path, rule: rule, message: message)]
    }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
