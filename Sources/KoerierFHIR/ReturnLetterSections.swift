import KoerierModel
import KoerierRender

/// The Composition's sections: SOEP, the HASP kern (advice, next step, goals) and the
/// measurements. ICPC codes of S and E become Conditions the section lists as entries.
enum ReturnLetterSections {
    struct Written {
        let sections: [JSONValue]
        /// Conditions, by id, in section order.
        let conditions: [(id: String, resource: JSONValue)]
    }

    static func all(_ letter: ReturnLetter, ids: ReturnLetterIDs, observations: [ReturnLetterObservations.Written]) -> Written {
        var conditions: [(id: String, resource: JSONValue)] = []
        func soepLine(_ key: String, _ title: String, _ line: SoepLine) -> JSONValue {
            var blocks: [Narrative.Block] = [.paragraph(line.text)]
            if !line.icpc.isEmpty { blocks.append(.list(line.icpc.map { "ICPC \($0.code) \($0.label)" })) }
            var entries: [JSONValue] = []
            for (position, code) in line.icpc.enumerated() {
                let id = ids.id("condition-\(key)-\(position)")
                conditions.append((id, condition(code, id: id, patient: ids.patient)))
                entries.append(ReturnLetterIDs.reference(id))
            }
            return section(title, blocks, entries: entries)
        }
        var sections = [
            soepLine("s", "S – Subjectief", letter.soep.subjective),
            section("O – Objectief", [.paragraph(letter.soep.objective)]),
            soepLine("e", "E – Evaluatie", letter.soep.evaluation),
            section("P – Plan", [.paragraph(letter.soep.plan)]),
        ]
        var kern = [
            section("Advies aan de verwijzer", [.paragraph(letter.adviceToReferrer)]),
            section("Vervolg", [.paragraph(letter.nextStep)]),
        ]
        if !letter.goals.isEmpty { kern.append(section("Doelen (SMART)", [.list(letter.goals.map(goal))])) }
        sections.append(["title": "HASP kern", "section": .array(kern)])
        if !observations.isEmpty {
            sections.append(
                section(
                    "Metingen", [.list(LetterDocument.measurementLines(letter.measurements))], status: "generated",
                    entries: observations.map { ReturnLetterIDs.reference($0.id) }))
        }
        return Written(sections: sections, conditions: conditions)
    }

    /// Free text the author wrote is `additional` (more than any structured data says);
    /// the Metingen narrative is `generated` from the Observations.
    private static func section(
        _ title: String, _ blocks: [Narrative.Block], status: String = "additional", entries: [JSONValue] = []
    ) -> JSONValue {
        .members([
            "title": .string(title), "text": ["status": .string(status), "div": .string(Narrative.xhtml(blocks))],
            "entry": entries.isEmpty ? nil : .array(entries),
        ])
    }

    private static func condition(_ code: IcpcCode, id: String, patient: String) -> JSONValue {
        [
            "resourceType": "Condition", "id": .string(id), "clinicalStatus": "active",
            "code": [
                "coding": [["system": .string(FHIRSystems.icpc), "code": .string(code.code), "display": .string(code.label)]],
                "text": .string(code.label),
            ],
            "subject": ReturnLetterIDs.reference(patient),
        ]
    }

    private static func goal(_ goal: Goal) -> String {
        "\(goal.description)\nMeetbaar: \(goal.measure)\nStreefdatum: \(Dutch.date(goal.targetDate)). Status: \(Dutch.goalStatus(goal.status))."
    }
}
