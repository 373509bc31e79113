/// One thing wrong with an XML message: where (line, and the element path when known),
/// which rule, and what. Rendered as `LINE: FIELD: message [rule]`.
public struct XMLProblem: Error, Hashable, Sendable, CustomStringConvertible {
    public let line: Int
    public let field: String?
    public let rule: String
    public let message: String

    public init(line: Int, field: String? = nil, rule: String, message: String) {
        self.line = line
        self.field = field
        self.rule = rule
        self.message = message
    }

    public var description: String {
        "\(line): " + (field.map { "\($0): " } ?? "") + "\(message) [\(rule)]"
    }
}

/// The problems that made a message unacceptable, in document order.
public struct XMLProblems: Error, Sendable, CustomStringConvertible {
    public let problems: [XMLProblem]
    public init(_ problems: [XMLProblem]) { self.problems = problems }
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
