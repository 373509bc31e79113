import KoerierModel

/// A return letter read with the trajectory's earlier letters: the spinnenweb over the
/// intake's, and the course of 4DKL and PHQ-9 phase by phase.
extension LetterDocument {
    public struct EarlierLetterMismatch: Error, CustomStringConvertible {
        public let description: String
    }

    /// `earlier`: the same client's earlier return letters (any order). A letter of another
    /// client, or of a phase not before this one, is refused (nothing is rendered).
    public init(_ message: Message, earlier: [Message]) throws(EarlierLetterMismatch) {
        self.init(message)
        guard case .returnLetter(let letter) = message else {
            guard earlier.isEmpty else { throw EarlierLetterMismatch(description: "earlier letters go with a return letter only") }
            return
        }
        var history: [ReturnLetter] = []
        for (index, other) in earlier.enumerated() {
            guard case .returnLetter(let previous) = other else {
                throw EarlierLetterMismatch(description: "earlier letter \(index + 1) is not a return letter")
            }
            guard previous.patient.bsn == letter.patient.bsn else {
                throw EarlierLetterMismatch(
                    description: "earlier letter \(index + 1) (\(previous.envelope.messageID.value)) is about another client")
            }
            guard Self.order(previous.phase) < Self.order(letter.phase) else {
                throw EarlierLetterMismatch(
                    description:
                        "earlier letter \(index + 1) (\(previous.envelope.messageID.value)) is of phase \(previous.phase.rawValue), "
                        + "not before \(letter.phase.rawValue)")
            }
            history.append(previous)
        }
        history.sort { Self.order($0.phase) < Self.order($1.phase) }
        // The course phase by phase: drawn as a figure, and listed in the text.
        let course = (history + [letter]).map {
            CoursePoint(
                label: Dutch.phaseShort($0.phase), fourDKLDistress: $0.measurements.fourDKL?.distress, phq9: $0.measurements.phq9?.total)
        }
        figures = Self.figures(letter, earlier: history, course: course)
        if course.count > 1 {
            sections.append(
                Section(
                    heading: "Verloop",
                    rows: course.map { point in
                        Row(
                            label: point.label,
                            value: [point.fourDKLDistress.map { "4DKL-distress \($0)/32" }, point.phq9.map { "PHQ-9 \($0)/27" }]
                                .compactMap { $0 }.joined(separator: ", "))
                    }))
        }
    }

    static func figures(_ letter: ReturnLetter, earlier: [ReturnLetter], course points: [CoursePoint]) -> [Figure] {
        var figures: [Figure] = []
        if let current = letter.measurements.positiveHealth {
            // The intake's measurement is the baseline; without one, the oldest earlier one.
            let baseline =
                earlier.first { $0.phase == .intake && $0.measurements.positiveHealth != nil }
                ?? earlier.first { $0.measurements.positiveHealth != nil }
            figures.append(
                .spinnenweb(
                    current: current, currentLabel: Dutch.phaseShort(letter.phase), baseline: baseline?.measurements.positiveHealth,
                    baselineLabel: baseline.map { Dutch.phaseShort($0.phase) }))
        }
        if points.count > 1, points.contains(where: { $0.fourDKLDistress != nil || $0.phq9 != nil }) {
            figures.append(.course(points))
        }
        return figures
    }

    static func order(_ phase: Phase) -> Int { Phase.allCases.firstIndex(of: phase) ?? 0 }
}
