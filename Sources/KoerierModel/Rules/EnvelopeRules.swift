extension RuleCheck {
    mutating func checkEnvelope(_ envelope: Envelope, kind: MessageKind) {
        require(
            kind.documentKinds.contains(envelope.documentKind), "Envelope/DocumentKind", "document-kind",
            "document kind '\(envelope.documentKind.rawValue)' does not fit a \(kind.rawValue); expected one of "
                + kind.documentKinds.map(\.rawValue).joined(separator: ", "))
        if let inReplyTo = envelope.inReplyTo {
            require(inReplyTo != envelope.messageID, "Envelope/InReplyTo", "reply-to-self", "a message cannot reply to itself")
        }
        checkParty(envelope.sender, "Envelope/Sender")
        checkParty(envelope.receiver, "Envelope/Receiver")
        if kind.carriesClinicalContent, let recipient = envelope.receiver.type.recipientType {
            require(
                recipient.mayReceiveClinicalContent, "Envelope/Receiver/Type", "clinical-to-non-clinical",
                "a \(kind.rawValue) carries clinical content and may not be addressed to a \(recipient.rawValue)")
        }
    }

    /// GPs and mental-health providers are registered care providers: they have an AGB code.
    private mutating func checkParty(_ party: Party, _ path: String) {
        if party.type == .huisarts || party.type == .ggz {
            require(party.agb != nil, path + "/AGB", "agb-required", "a \(party.type.rawValue) party must carry its AGB code")
        }
    }

    mutating func checkPatient(_ patient: Patient, created: Timestamp) {
        requireNotAfterCreated(patient.birthDate, created, "Patient/BirthDate", what: "birth date")
        require(
            patient.birthDate.year >= created.date.year - 130, "Patient/BirthDate", "birth-date-range",
            "the birth date is more than 130 years before the message")
    }

    mutating func checkFourDKL(_ scores: FourDKL, _ path: String, created: Timestamp) {
        requireInRange(scores.distress, InstrumentRange.fourDKLDistress, path + "/Distress", instrument: "4DKL distress")
        requireInRange(scores.depressie, InstrumentRange.fourDKLDepressie, path + "/Depressie", instrument: "4DKL depressie")
        requireInRange(scores.angst, InstrumentRange.fourDKLAngst, path + "/Angst", instrument: "4DKL angst")
        requireInRange(scores.somatisatie, InstrumentRange.fourDKLSomatisatie, path + "/Somatisatie", instrument: "4DKL somatisatie")
        requireNotAfterCreated(scores.measuredOn, created, path + "/@measuredOn", what: "4DKL measurement date")
    }

    mutating func checkPHQ9(_ scores: PHQ9, _ path: String, created: Timestamp) {
        requireInRange(scores.total, InstrumentRange.phq9Total, path + "/Total", instrument: "PHQ-9 total")
        requireNotAfterCreated(scores.measuredOn, created, path + "/@measuredOn", what: "PHQ-9 measurement date")
    }

    mutating func checkPositiveHealth(_ scores: PositiveHealth, _ path: String, created: Timestamp) {
        let range = InstrumentRange.positiveHealthDimension
        requireInRange(scores.lichaamsfuncties, range, path + "/Lichaamsfuncties", instrument: "Positieve Gezondheid lichaamsfuncties")
        requireInRange(
            scores.mentaalWelbevinden, range, path + "/MentaalWelbevinden", instrument: "Positieve Gezondheid mentaal welbevinden")
        requireInRange(scores.zingeving, range, path + "/Zingeving", instrument: "Positieve Gezondheid zingeving")
        requireInRange(scores.kwaliteitVanLeven, range, path + "/KwaliteitVanLeven", instrument: "Positieve Gezondheid kwaliteit van leven")
        requireInRange(scores.meedoen, range, path + "/Meedoen", instrument: "Positieve Gezondheid meedoen")
        requireInRange(
            scores.dagelijksFunctioneren, range, path + "/DagelijksFunctioneren",
            instrument: "Positieve Gezondheid dagelijks functioneren")
        requireNotAfterCreated(scores.measuredOn, created, path + "/@measuredOn", what: "Positieve Gezondheid measurement date")
    }
}
