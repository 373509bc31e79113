extension RuleCheck {
    mutating func checkReturnLetter(_ letter: ReturnLetter) {
        let created = letter.envelope.created
        checkPatient(letter.patient, created: created)
        let period = letter.period
        require(
            period.start <= period.end, "Period/End", "period-order",
            "period ends before it starts")
        if period.start <= period.end {
            require(
                period.lengthInDays <= letter.phase.maximumPeriodDays, "Period", "phase-period",
                "a \(letter.phase.rawValue) letter covers at most \(letter.phase.maximumPeriodDays) days; this period is longer"
            )
        }
        requireNotAfterCreated(period.end, created, "Period/End", what: "period end")

        let isCorrection = letter.envelope.documentKind == .terugkoppelingCorrectie
        require(
            isCorrection == (letter.corrects != nil), isCorrection ? "Envelope/DocumentKind" : "Corrects", "correction-link",
            isCorrection
                ? "a terugkoppeling-correctie must name the letter it corrects in Corrects"
                : "Corrects is only allowed on a terugkoppeling-correctie")
        if let corrects = letter.corrects {
            require(corrects != letter.envelope.messageID, "Corrects", "corrects-self", "a letter cannot correct itself")
        }

        requireText(letter.soep.subjective.text, "Soep/S/Text")
        requireText(letter.soep.objective, "Soep/O/Text")
        requireText(letter.soep.evaluation.text, "Soep/E/Text")
        requireText(letter.soep.plan, "Soep/P/Text")
        requireText(letter.adviceToReferrer, "AdviceToReferrer")
        requireText(letter.nextStep, "NextStep")

        if let scores = letter.measurements.fourDKL { checkFourDKL(scores, "Measurements/FourDKL", created: created) }
        if let scores = letter.measurements.phq9 { checkPHQ9(scores, "Measurements/PHQ9", created: created) }
        if let scores = letter.measurements.positiveHealth {
            checkPositiveHealth(scores, "Measurements/PositiveHealth", created: created)
        }
        for (index, goal) in letter.goals.enumerated() {
            requireText(goal.description, "Goals/Goal[\(index + 1)]/Description")
            requireText(goal.measure, "Goals/Goal[\(index + 1)]/Measure")
        }
    }
}
