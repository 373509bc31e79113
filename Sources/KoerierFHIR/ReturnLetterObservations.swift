import KoerierModel

/// The letter's measurements as Observations. STU3 has no `valueInteger` on an
/// Observation, so scores are `valueQuantity` with the UCUM annotation `{score}`.
/// 4DKL and Positieve Gezondheid are one Observation each, their dimensions components;
/// LOINC has codes for neither, so they carry Koerier's local codes.
enum ReturnLetterObservations {
    struct Written {
        let id: String
        let resource: JSONValue
    }

    static func all(_ measurements: Measurements, ids: ReturnLetterIDs) -> [Written] {
        var written: [Written] = []
        let patient = ids.patient
        if let scores = measurements.fourDKL {
            let id = ids.id("observation-4dkl")
            let components = [
                ("4dkl-distress", "Distress", scores.distress), ("4dkl-depressie", "Depressie", scores.depressie),
                ("4dkl-angst", "Angst", scores.angst), ("4dkl-somatisatie", "Somatisatie", scores.somatisatie),
            ]
            written.append(
                Written(
                    id: id,
                    resource: observation(
                        id: id, code: local("4dkl", "Vierdimensionale Klachtenlijst (4DKL)"), on: scores.measuredOn,
                        patient: patient, components: components)))
        }
        if let scores = measurements.phq9 {
            let id = ids.id("observation-phq9")
            let code: JSONValue = [
                "coding": [
                    [
                        "system": .string(FHIRSystems.loinc), "code": "44261-6",
                        "display": "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
                    ]
                ],
                "text": "PHQ-9 totaalscore",
            ]
            written.append(
                Written(
                    id: id,
                    resource: observation(id: id, code: code, on: scores.measuredOn, patient: patient, value: scores.total)))
        }
        if let scores = measurements.positiveHealth {
            let id = ids.id("observation-positieve-gezondheid")
            let components = [
                ("lichaamsfuncties", "Lichaamsfuncties", scores.lichaamsfuncties),
                ("mentaal-welbevinden", "Mentaal welbevinden", scores.mentaalWelbevinden),
                ("zingeving", "Zingeving", scores.zingeving),
                ("kwaliteit-van-leven", "Kwaliteit van leven", scores.kwaliteitVanLeven),
                ("meedoen", "Meedoen", scores.meedoen),
                ("dagelijks-functioneren", "Dagelijks functioneren", scores.dagelijksFunctioneren),
            ]
            written.append(
                Written(
                    id: id,
                    resource: observation(
                        id: id, code: local("positieve-gezondheid", "Positieve Gezondheid (spinnenweb)"), on: scores.measuredOn,
                        patient: patient, components: components)))
        }
        return written
    }

    private static func observation(
        id: String, code: JSONValue, on date: CalendarDate, patient: String, value: Int? = nil,
        components: [(String, String, Int)] = []
    ) -> JSONValue {
        .members([
            "resourceType": "Observation", "id": .string(id), "status": "final",
            "category": [
                ["coding": [["system": .string(FHIRSystems.observationCategory), "code": "survey", "display": "Survey"]]]
            ],
            "code": code, "subject": ReturnLetterIDs.reference(patient), "effectiveDateTime": .string(date.description),
            "valueQuantity": value.map(score),
            "component": components.isEmpty
                ? nil : .array(components.map { ["code": local($0.0, $0.1), "valueQuantity": score($0.2)] }),
        ])
    }

    private static func local(_ code: String, _ display: String) -> JSONValue {
        [
            "coding": [["system": .string(FHIRSystems.koerierMeasurement), "code": .string(code), "display": .string(display)]],
            "text": .string(display),
        ]
    }

    private static func score(_ value: Int) -> JSONValue {
        ["value": .integer(value), "unit": "score", "system": .string(FHIRSystems.ucum), "code": "{score}"]
    }
}
