import KoerierModel

/// The Patient, and the sender as PractitionerRole, Practitioner and Organization.
enum ReturnLetterParties {
    static func patient(_ patient: Patient, id: String) -> JSONValue {
        let name = patient.name
        var humanName: [String: JSONValue] = [
            "use": "official", "family": .string([name.prefix, name.family].compactMap { $0 }.joined(separator: " ")),
            "given": [.string(name.given)],
        ]
        // nl-core: the whole family name in `family`, its parts in extensions on `_family`.
        if let prefix = name.prefix {
            humanName["_family"] = [
                "extension": [
                    ["url": .string(FHIRSystems.ownPrefix), "valueString": .string(prefix)],
                    ["url": .string(FHIRSystems.ownName), "valueString": .string(name.family)],
                ]
            ]
        }
        return [
            "resourceType": "Patient", "id": .string(id),
            "identifier": [["system": .string(FHIRSystems.bsn), "value": .string(patient.bsn.digits)]],
            "name": [.object(humanName)], "gender": .string(patient.sex.rawValue),
            "birthDate": .string(patient.birthDate.description),
        ]
    }

    static func practitionerRole(id: String, practitioner: String, organisation: String) -> JSONValue {
        [
            "resourceType": "PractitionerRole", "id": .string(id),
            "practitioner": ReturnLetterIDs.reference(practitioner), "organization": ReturnLetterIDs.reference(organisation),
        ]
    }

    /// The party's practitioner is one display string, so it is the name's `text`.
    static func practitioner(_ party: Party, id: String) -> JSONValue {
        .members([
            "resourceType": "Practitioner", "id": .string(id),
            "name": party.practitioner.map { [["use": "official", "text": .string($0)]] },
        ])
    }

    static func organisation(_ party: Party, id: String) -> JSONValue {
        var identifiers: [JSONValue] = []
        if let agb = party.agb { identifiers.append(["system": .string(FHIRSystems.agb), "value": .string(agb.value)]) }
        if let ura = party.ura { identifiers.append(["system": .string(FHIRSystems.ura), "value": .string(ura.value)]) }
        let address = party.address.map { address -> JSONValue in
            [
                [
                    "use": "work", "line": [.string("\(address.street) \(address.houseNumber)")],
                    "postalCode": .string(address.postalCode), "city": .string(address.city),
                ]
            ]
        }
        return .members([
            "resourceType": "Organization", "id": .string(id), "name": .string(party.organisation),
            "identifier": identifiers.isEmpty ? nil : .array(identifiers), "address": address,
        ])
    }
}
