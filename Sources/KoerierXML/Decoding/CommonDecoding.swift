import KoerierModel

extension Element {
    func envelope() throws -> Envelope {
        let envelope = try child("Envelope")
        return Envelope(
            messageID: try envelope.child("MessageId").value { try MessageID($0) },
            transactionID: try envelope.child("TransactionId").value { try TransactionID($0) },
            created: try envelope.child("Created").timestamp(),
            documentKind: try envelope.child("DocumentKind").choice(),
            sender: try envelope.child("Sender").party(),
            receiver: try envelope.child("Receiver").party(),
            inReplyTo: try envelope.optional("InReplyTo")?.value { try MessageID($0) }
        )
    }

    func party() throws -> Party {
        Party(
            type: try child("Type").choice(),
            organisation: try child("Organisation").text,
            practitioner: optionalText("Practitioner"),
            agb: try optional("AGB")?.value { try AGBCode($0) },
            ura: try optional("URA")?.value { try URANumber($0) },
            address: try optional("Address").map { address in
                Address(
                    street: try address.child("Street").text, houseNumber: try address.child("HouseNumber").text,
                    postalCode: try address.child("PostalCode").text, city: try address.child("City").text)
            }
        )
    }

    func personName() throws -> PersonName {
        PersonName(given: try child("Given").text, prefix: optionalText("Prefix"), family: try child("Family").text)
    }

    func patient() throws -> Patient {
        let patient = try child("Patient")
        return Patient(
            bsn: try patient.child("BSN").value { try BSN($0) },
            name: try patient.child("Name").personName(),
            birthDate: try patient.child("BirthDate").date(),
            sex: try patient.child("Sex").choice()
        )
    }

    func icpcCodes(_ name: StaticString = "Icpc") throws -> [IcpcCode] {
        try all(name).map { element in
            try element.convert(try element.attribute("code"), field: element.attributePath("code")) {
                try IcpcCode(code: $0, label: element.text)
            }
        }
    }

    func fourDKL() throws -> FourDKL {
        FourDKL(
            measuredOn: try dateAttribute("measuredOn"), distress: try child("Distress").integer(),
            depressie: try child("Depressie").integer(), angst: try child("Angst").integer(),
            somatisatie: try child("Somatisatie").integer())
    }

    func phq9() throws -> PHQ9 {
        PHQ9(measuredOn: try dateAttribute("measuredOn"), total: try child("Total").integer())
    }

    func positiveHealth() throws -> PositiveHealth {
        PositiveHealth(
            measuredOn: try dateAttribute("measuredOn"),
            lichaamsfuncties: try child("Lichaamsfuncties").integer(),
            mentaalWelbevinden: try child("MentaalWelbevinden").integer(),
            zingeving: try child("Zingeving").integer(),
            kwaliteitVanLeven: try child("KwaliteitVanLeven").integer(),
            meedoen: try child("Meedoen").integer(),
            dagelijksFunctioneren: try child("DagelijksFunctioneren").integer()
        )
    }
}
