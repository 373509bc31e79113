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
    /// Where the charts go: before the section at this index (the layout puts them right
    /// after the measurements they draw); nil, or past the last section: at the end.
    public var chartsBefore: Int?

    public init(title: String, sections: [Section], figures: [Figure] = [], chartsBefore: Int? = nil) {
        self.title = title
        self.sections = sections
        self.figures = figures
        self.chartsBefore = chartsBefore
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
