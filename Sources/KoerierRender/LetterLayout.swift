import KoerierModel

/// Lays out each message kind as a letter with Dutch headings.
extension LetterDocument {
    public init(_ message: Message) {
        switch message {
        case .referral(let referral): self = LetterDocument.referral(referral)
        case .returnLetter(let letter): self = LetterDocument.returnLetter(letter)
        case .participationNotice(let notice): self = LetterDocument.participationNotice(notice)
        case .receipt(let receipt): self = LetterDocument.receipt(receipt)
        }
    }

    private static func row(_ label: String, _ value: String?) -> [Row] {
        value.map { [Row(label: label, value: $0)] } ?? []
    }

    private static func party(_ party: Party) -> String {
        var text = ([party.organisation] + [party.practitioner].compactMap { $0 }).joined(separator: ", ")
        text += " (\(Dutch.partyType(party.type)))"
        if let agb = party.agb { text += ", AGB \(agb.value)" }
        return text
    }

    private static func envelopeSection(_ envelope: Envelope) -> Section {
        Section(
            heading: "Envelop",
            rows: [
                Row(label: "Van", value: party(envelope.sender)),
                Row(label: "Aan", value: party(envelope.receiver)),
                Row(label: "Datum", value: Dutch.timestamp(envelope.created)),
                Row(label: "Kenmerk", value: envelope.messageID.value),
                Row(label: "Transactienummer", value: envelope.transactionID.value),
            ] + row("In antwoord op", envelope.inReplyTo?.value))
    }

    private static func patientSection(_ patient: Patient) -> Section {
        Section(
            heading: "Patiënt",
            rows: [
                Row(label: "Naam", value: patient.name.formatted),
                Row(label: "BSN", value: patient.bsn.digits),
                Row(label: "Geboortedatum", value: Dutch.date(patient.birthDate)),
                Row(label: "Geslacht", value: Dutch.sex(patient.sex)),
            ])
    }

    private static func icpc(_ codes: [IcpcCode]) -> String? {
        codes.isEmpty ? nil : codes.map { "\($0.code) \($0.label)" }.joined(separator: "; ")
    }

    private static func measurementRows(fourDKL: FourDKL?, phq9: PHQ9?, positiveHealth: PositiveHealth? = nil) -> [Row] {
        var rows: [Row] = []
        if let s = fourDKL {
            rows.append(
                Row(
                    label: "4DKL (\(Dutch.date(s.measuredOn)))",
                    value: "distress \(s.distress)/32, depressie \(s.depressie)/12, angst \(s.angst)/24, somatisatie \(s.somatisatie)/32"))
        }
        if let s = phq9 {
            rows.append(Row(label: "PHQ-9 (\(Dutch.date(s.measuredOn)))", value: "\(s.total)/27"))
        }
        if let s = positiveHealth {
            rows.append(
                Row(
                    label: "Positieve Gezondheid (\(Dutch.date(s.measuredOn)))",
                    value: "lichaamsfuncties \(s.lichaamsfuncties), mentaal welbevinden \(s.mentaalWelbevinden), "
                        + "zingeving \(s.zingeving), kwaliteit van leven \(s.kwaliteitVanLeven), meedoen \(s.meedoen), "
                        + "dagelijks functioneren \(s.dagelijksFunctioneren) (elk 0–10)"))
        }
        return rows
    }

    /// The measurements as the letter shows them, one "label: value" line each (4DKL,
    /// PHQ-9, Positieve Gezondheid): other renderings of the letter use the same lines.
    public static func measurementLines(_ measurements: Measurements) -> [String] {
        measurementRows(fourDKL: measurements.fourDKL, phq9: measurements.phq9, positiveHealth: measurements.positiveHealth).map {
            "\($0.label): \($0.value)"
        }
    }

    static func referral(_ referral: Referral) -> LetterDocument {
        let kind = referral.requestType == .refer ? "Verwijzing" : "Consultatieverzoek"
        let core = referral.core
        var sections = [
            envelopeSection(referral.envelope),
            patientSection(referral.patient),
            Section(
                heading: "Verzoek",
                rows: [
                    Row(label: "Soort", value: referral.requestType == .refer ? "verwijzing (overdracht)" : "consultatie (advies)"),
                    Row(label: "Urgentie", value: Dutch.urgency(referral.urgency)),
                ] + row("Doorgestuurd bericht", referral.forwards?.value)),
            Section(
                heading: "Reden van verwijzing", rows: row("Episodes (ICPC)", icpc(core.episodes)),
                paragraphs: core.reasons.map { "• " + Dutch.reason($0) }),
            Section(heading: "Vraagstelling", paragraphs: [core.question]),
        ]
        var background = row("Voorgeschiedenis", core.history) + row("Medicatie", core.medication)
        background += measurementRows(fourDKL: core.fourDKL, phq9: core.phq9)
        if !background.isEmpty { sections.append(Section(heading: "Relevante gegevens", rows: background)) }
        let allowed = referral.consent.allowed.map(Dutch.recipientType).joined(separator: ", ")
        sections.append(
            Section(
                heading: "Toestemming cliënt",
                rows: [
                    Row(label: "Vastgelegd op", value: Dutch.date(referral.consent.recordedOn)),
                    Row(label: "Terugkoppeling aan", value: allowed.isEmpty ? "niemand" : allowed),
                ]))
        if !referral.attachments.isEmpty {
            sections.append(
                Section(
                    heading: "Bijlagen",
                    paragraphs: referral.attachments.map {
                        "\($0.fileName) (\($0.mimeType.rawValue), \($0.data.count) bytes)"
                    }))
        }
        let title = referral.urgency == .urgent ? "\(kind) — SPOED" : kind
        return LetterDocument(title: title, sections: sections)
    }

    static func returnLetter(_ letter: ReturnLetter) -> LetterDocument {
        let soep = letter.soep
        var sections = [
            envelopeSection(letter.envelope),
            patientSection(letter.patient),
            Section(
                heading: "Traject",
                rows: [
                    Row(label: "Fase", value: Dutch.phase(letter.phase)),
                    Row(label: "Periode", value: "\(Dutch.date(letter.period.start)) t/m \(Dutch.date(letter.period.end))"),
                ] + row("Correctie op", letter.corrects?.value)),
            Section(heading: "S – Subjectief", rows: row("ICPC", icpc(soep.subjective.icpc)), paragraphs: [soep.subjective.text]),
            Section(heading: "O – Objectief", paragraphs: [soep.objective]),
            Section(heading: "E – Evaluatie", rows: row("ICPC", icpc(soep.evaluation.icpc)), paragraphs: [soep.evaluation.text]),
            Section(heading: "P – Plan", paragraphs: [soep.plan]),
        ]
        let measurements = measurementRows(
            fourDKL: letter.measurements.fourDKL, phq9: letter.measurements.phq9,
            positiveHealth: letter.measurements.positiveHealth)
        if !measurements.isEmpty { sections.append(Section(heading: "Metingen", rows: measurements)) }
        // The charts, when the letter is read with its trajectory, follow the measurements.
        let chartsBefore = sections.count
        if !letter.goals.isEmpty {
            sections.append(
                Section(
                    heading: "Doelen (SMART)",
                    paragraphs: letter.goals.map {
                        "• \($0.description) Meetbaar: \($0.measure) Streefdatum: \(Dutch.date($0.targetDate)). Status: \(Dutch.goalStatus($0.status))."
                    }))
        }
        sections.append(Section(heading: "Advies aan de verwijzer", paragraphs: [letter.adviceToReferrer]))
        sections.append(Section(heading: "Vervolg", paragraphs: [letter.nextStep]))
        let title = "Terugkoppeling — \(Dutch.phase(letter.phase))" + (letter.corrects == nil ? "" : " (correctie)")
        return LetterDocument(title: title, sections: sections, chartsBefore: chartsBefore)
    }

    static func participationNotice(_ notice: ParticipationNotice) -> LetterDocument {
        var sections = [
            envelopeSection(notice.envelope),
            Section(
                heading: "Deelnemer",
                rows: [Row(label: "Naam", value: notice.participant.name.formatted)]
                    + row("Personeelsnummer", notice.participant.employeeNumber)),
            Section(
                heading: "Deelname",
                rows: [
                    Row(label: "Status", value: Dutch.participation(notice.status)),
                    Row(label: "Aanwezigheid", value: "\(notice.attendance.attended) van \(notice.attendance.planned) geplande sessies"),
                ]
                    + notice.programme.map {
                        Row(
                            label: "Blok \($0.sequence)",
                            value: Dutch.date($0.start) + ($0.end.map { " t/m " + Dutch.date($0) } ?? " – loopt"))
                    }),
        ]
        if !notice.workAdvice.isEmpty {
            sections.append(
                Section(
                    heading: "Werkadvies (gedeeld met toestemming van de cliënt)",
                    paragraphs: notice.workAdvice.map {
                        "\($0.text) (afgesproken op \(Dutch.date($0.agreedOn)))"
                    }))
        }
        return LetterDocument(title: "Deelnamebericht", sections: sections)
    }

    static func receipt(_ receipt: Receipt) -> LetterDocument {
        var rows = [
            Row(label: "Bericht", value: receipt.answeredMessageID.value),
            Row(label: "SHA-256", value: receipt.answeredDigest.value),
            Row(label: "Ontvangen op", value: Dutch.timestamp(receipt.receivedAt)),
        ]
        switch receipt.outcome {
        case .accepted:
            rows.append(Row(label: "Uitkomst", value: "geaccepteerd"))
        case .rejected(let code, let text):
            rows.append(Row(label: "Uitkomst", value: "afgewezen: \(Dutch.rejection(code))"))
            rows.append(Row(label: "Toelichting", value: text))
        }
        return LetterDocument(
            title: "Ontvangstbevestiging",
            sections: [envelopeSection(receipt.envelope), Section(heading: "Bevestiging", rows: rows)])
    }
}
