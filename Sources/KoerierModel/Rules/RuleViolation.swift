/// A rule the schema cannot express, broken. `field` is the element path as in the
/// schemas (`Period/End`, `Goals/Goal[2]/TargetDate`, `Programme/Block[1]/@sequence`),
/// so the XML layer can point at the line and a builder can name the input field.
public struct RuleViolation: Hashable, Sendable, CustomStringConvertible {
    public let field: String
    public let rule: String
    public let message: String

    public init(field: String, rule: String, message: String) {
        self.field = field
        self.rule = rule
        self.message = message
    }

    public var description: String { "\(field): \(message) [\(rule)]" }
}

/// Collects violations while the rules of one message are checked.
struct RuleCheck {
    private(set) var violations: [RuleViolation] = []

    mutating func require(_ condition: Bool, _ field: String, _ rule: String, _ message: @autoclosure () -> String) {
        if !condition { violations.append(RuleViolation(field: field, rule: rule, message: message())) }
    }

    mutating func requireText(_ text: String, _ field: String) {
        require(text.contains { !$0.isWhitespace }, field, "text-blank", "\(field) must contain text, not only white space")
    }

    mutating func requireInRange(_ value: Int, _ range: ClosedRange<Int>, _ field: String, instrument: String) {
        require(range.contains(value), field, "score-range",
                "\(instrument) score \(value) is outside \(range.lowerBound)-\(range.upperBound)")
    }

    mutating func requireNoDuplicates<T: Hashable>(_ values: [T], _ field: (Int) -> String, what: String) {
        var seen = Set<T>()
        for (index, value) in values.enumerated() where !seen.insert(value).inserted {
            violations.append(RuleViolation(field: field(index + 1), rule: "duplicate", message: "\(what) is listed twice"))
        }
    }

    /// A date that must not lie after the day the message was created (in its own zone).
    mutating func requireNotAfterCreated(_ date: CalendarDate, _ created: Timestamp, _ field: String, what: String) {
        require(date <= created.date, field, "date-after-created",
                "\(what) (\(date)) lies after the message was created (\(created.date))")
    }
}

extension Message {
    /// Every rule beyond the schema that this message breaks; empty when it is sound.
    public func ruleViolations() -> [RuleViolation] {
        var check = RuleCheck()
        check.checkEnvelope(envelope, kind: kind)
        switch self {
        case .referral(let referral): check.checkReferral(referral)
        case .returnLetter(let letter): check.checkReturnLetter(letter)
        case .participationNotice(let notice): check.checkParticipationNotice(notice)
        case .receipt(let receipt): check.checkReceipt(receipt)
        }
        return check.violations
    }
}
