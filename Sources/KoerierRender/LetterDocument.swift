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
}
