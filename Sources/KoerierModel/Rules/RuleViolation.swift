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

/// Collects violations while the rules of one message are checked. Field paths and
/// messages are autoclosures: they are only built for a broken rule, which keeps checking
/// a sound message cheap.
struct RuleCheck {
    private(set) var violations: [RuleViolation] = []

    mutating func require(
        _ condition: Bool, _ field: @autoclosure () -> String, _ rule: String,
        _ message: @autoclosure () -> String
    ) {
        if !condition { violations.append(RuleViolation(field: field(), rule: rule, message: message())) }
    }

    mutating func requireText(_ text: String, _ field: @autoclosure () -> String) {
        require(hasVisibleText(text), field(), "text-blank", "\(field()) must contain text, not only white space")
    }

    mutating func requireInRange(
        _ value: Int, _ range: ClosedRange<Int>, _ field: @autoclosure () -> String,
        instrument: @autoclosure () -> String
    ) {
        require(
            range.contains(value), field(), "score-range",
            "\(instrument()) score is outside \(range.lowerBound)-\(range.upperBound)")
    }

    mutating func requireNoDuplicates<T: Hashable>(_ values: [T], _ field: (Int) -> String, what: String) {
        var seen = Set<T>()
        for (index, value) in values.enumerated() where !seen.insert(value).inserted {
            violations.append(RuleViolation(field: field(index + 1), rule: "duplicate", message: "\(what) is listed twice"))
        }
    }

    /// A date that must not lie after the day the message was created (in its own zone).
    mutating func requireNotAfterCreated(
        _ date: CalendarDate, _ created: Timestamp, _ field: @autoclosure () -> String,
        what: @autoclosure () -> String
    ) {
        require(
            date <= created.date, field(), "date-after-created",
            "\(what()) lies after the message was created")
    }
}

/// Whether the text has anything but white space. Any ASCII byte that is not white space
/// settles it at once; only texts made of non-ASCII characters need Unicode's answer.
func hasVisibleText(_ text: String) -> Bool {
    for byte in text.utf8 where byte < 0x80 {
        if !(byte == 0x20 || (0x09...0x0D).contains(byte)) { return true }
    }
    return text.contains { !$0.isWhitespace }
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
