import KoerierModel

extension XMLWriter {
    func envelope(_ envelope: Envelope) throws {
        try element("Envelope") {
            try leaf("MessageId", envelope.messageID.value)
            try leaf("TransactionId", envelope.transactionID.value)
            try leaf("Created", envelope.created.description)
            try leaf("DocumentKind", envelope.documentKind.rawValue)
            try party("Sender", envelope.sender)
            try party("Receiver", envelope.receiver)
            try leaf("InReplyTo", envelope.inReplyTo?.value)
        }
    }

    func party(_ name: String, _ party: Party) throws {
        try element(name) {
            try leaf("Type", party.type.rawValue)
            try leaf("Organisation", party.organisation)
            try leaf("Practitioner", party.practitioner)
            try leaf("AGB", party.agb?.value)
            try leaf("URA", party.ura?.value)
            if let address = party.address {
                try element("Address") {
                    try leaf("Street", address.street)
                    try leaf("HouseNumber", address.houseNumber)
                    try leaf("PostalCode", address.postalCode)
                    try leaf("City", address.city)
                }
            }
        }
    }

    func personName(_ name: PersonName) throws {
        try element("Name") {
            try leaf("Given", name.given)
            try leaf("Prefix", name.prefix)
            try leaf("Family", name.family)
        }
    }

    func patient(_ patient: Patient) throws {
        try element("Patient") {
            try leaf("BSN", patient.bsn.digits)
            try personName(patient.name)
            try leaf("BirthDate", patient.birthDate.description)
            try leaf("Sex", patient.sex.rawValue)
        }
    }

    func icpc(_ codes: [IcpcCode]) throws {
        for code in codes { try leaf("Icpc", code.label, attributes: [("code", code.code)]) }
    }

    func fourDKL(_ scores: FourDKL?) throws {
        guard let scores else { return }
        try element("FourDKL", attributes: [("measuredOn", scores.measuredOn.description)]) {
            try leaf("Distress", String(scores.distress))
            try leaf("Depressie", String(scores.depressie))
            try leaf("Angst", String(scores.angst))
            try leaf("Somatisatie", String(scores.somatisatie))
        }
    }

    func phq9(_ scores: PHQ9?) throws {
        guard let scores else { return }
        try element("PHQ9", attributes: [("measuredOn", scores.measuredOn.description)]) {
            try leaf("Total", String(scores.total))
        }
    }

    func positiveHealth(_ scores: PositiveHealth?) throws {
        guard let scores else { return }
        try element("PositiveHealth", attributes: [("measuredOn", scores.measuredOn.description)]) {
            try leaf("Lichaamsfuncties", String(scores.lichaamsfuncties))
            try leaf("MentaalWelbevinden", String(scores.mentaalWelbevinden))
            try leaf("Zingeving", String(scores.zingeving))
            try leaf("KwaliteitVanLeven", String(scores.kwaliteitVanLeven))
            try leaf("Meedoen", String(scores.meedoen))
            try leaf("DagelijksFunctioneren", String(scores.dagelijksFunctioneren))
        }
    }
}
