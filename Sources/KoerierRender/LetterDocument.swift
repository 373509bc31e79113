import KoerierModel

/// A message laid out for a human reader, independent of the output format.
public struct LetterDocument: Equatable, Sendable {
    public struct Section: Equatable, Sendable {
        public var heading: String
        public var rows: [Row] = []
        public var paragraphs: [String] = []
    }

    public struct Row: Equatable, Sendable {
        public var label: String
        public var value: String
    }

    public var title: String
    public var sections: [Section]
    /// Charts the HTML rendering draws; the text rendering has the same numbers in its rows.
    public var figures: [Figure] = []

    public init(title: String, sections: [Section], figures: [Figure] = []) {
        self.title = title
        self.sections = sections
        self.figures = figures
    }
}

public enum Figure: Equatable, Sendable {
    /// The Spinnenweb Positieve Gezondheid: this letter's six scores over an earlier
    /// measurement's (the intake's), when the trajectory's earlier letters are known.
    case spinnenweb(current: PositiveHealth, currentLabel: String, baseline: PositiveHealth?, baselineLabel: String?)
    /// 4DKL distress and PHQ-9 over the trajectory's phases, oldest first.
    case course([CoursePoint])
}

public struct CoursePoint: Equatable, Sendable {
    public let label: String
    public let fourDKLDistress: Int?
    public let phq9: Int?
}
