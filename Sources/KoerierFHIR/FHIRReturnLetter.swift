import Foundation
import KoerierModel
import KoerierRender

/// A return letter as a FHIR STU3 document Bundle, for receivers that take FHIR.
///
/// Choices where STU3 differs from later versions: STU3 has no `Bundle.timestamp`, so
/// the moment of preparation is `Bundle.meta.lastUpdated`; STU3's `Composition.author`
/// cannot name a PractitionerRole, so the author is the Practitioner with nl-core's
/// `practitionerrole-reference` extension pointing at the role, and the organisation is
/// the `custodian`. The type is LOINC 11488-4 "Consult note": a consulted provider's
/// report back to the referrer. STU3's Composition has no recipient: the letter's
/// receiver is the transport's business, not the document's.
public enum FHIRReturnLetter {
    /// The return letter as a FHIR STU3 document Bundle (application/fhir+json), bytes
    /// deterministic for the same input (sorted keys). A letter that breaks the model's
    /// rules is not written: its problems name the model fields (`ReturnLetter/Soep/S/Text`).
    public static func bundle(_ letter: ReturnLetter, preparedAt: Date) throws(FHIRProblems) -> Data {
        let violations = Message.returnLetter(letter).ruleViolations()
        guard violations.isEmpty else {
            throw FHIRProblems(
                violations.map { FHIRProblem(path: "ReturnLetter/" + $0.field, rule: $0.rule, message: $0.message) })
        }
        let ids = ReturnLetterIDs(letter)
        let sender = letter.envelope.sender
        let observations = ReturnLetterObservations.all(letter.measurements, ids: ids)
        let sections = ReturnLetterSections.all(letter, ids: ids, observations: observations)

        var entries = [
            ReturnLetterIDs.entry(ids.composition, composition(letter, ids: ids, sections: sections.sections)),
            ReturnLetterIDs.entry(ids.patient, ReturnLetterParties.patient(letter.patient, id: ids.patient)),
            ReturnLetterIDs.entry(
                ids.practitionerRole,
                ReturnLetterParties.practitionerRole(
                    id: ids.practitionerRole, practitioner: ids.practitioner, organisation: ids.organisation)),
            ReturnLetterIDs.entry(ids.practitioner, ReturnLetterParties.practitioner(sender, id: ids.practitioner)),
            ReturnLetterIDs.entry(ids.organisation, ReturnLetterParties.organisation(sender, id: ids.organisation)),
        ]
        entries += sections.conditions.map { ReturnLetterIDs.entry($0.id, $0.resource) }
        entries += observations.map { ReturnLetterIDs.entry($0.id, $0.resource) }

        let bundle: JSONValue = [
            "resourceType": "Bundle", "id": .string(ids.letter),
            "meta": ["lastUpdated": .string(FHIRDateTime.instant(preparedAt))],
            "identifier": ["system": .string(FHIRSystems.uri), "value": .string("urn:uuid:" + ids.letter)],
            "type": "document", "entry": .array(entries),
        ]
        return Data(JSONWriter.bytes(bundle))
    }

    private static func composition(_ letter: ReturnLetter, ids: ReturnLetterIDs, sections: [JSONValue]) -> JSONValue {
        let author: JSONValue = [
            "reference": .string(ReturnLetterIDs.fullUrl(ids.practitioner)),
            "extension": [
                [
                    "url": .string(FHIRSystems.practitionerRoleReference),
                    "valueReference": ReturnLetterIDs.reference(ids.practitionerRole),
                ]
            ],
        ]
        let relatesTo = letter.corrects.map { corrected -> JSONValue in
            [
                [
                    "code": "replaces",
                    "targetIdentifier": ["system": .string(FHIRSystems.uri), "value": .string("urn:uuid:" + corrected.value)],
                ]
            ]
        }
        return .members([
            "resourceType": "Composition", "id": .string(ids.composition), "language": "nl-NL",
            "identifier": transactionIdentifier(letter.envelope.transactionID), "status": "final",
            "type": [
                "coding": [["system": .string(FHIRSystems.loinc), "code": "11488-4", "display": "Consult note"]],
                "text": "Terugkoppeling",
            ],
            "subject": ReturnLetterIDs.reference(ids.patient), "date": .string(letter.envelope.created.description),
            "author": [author], "title": .string(LetterDocument(.returnLetter(letter)).title),
            "custodian": ReturnLetterIDs.reference(ids.organisation),
            "event": [
                ["period": ["start": .string(letter.period.start.description), "end": .string(letter.period.end.description)]]
            ],
            "relatesTo": relatesTo, "section": .array(sections),
        ])
    }

    /// A ZD-number (`ZD`/`ZP` + 9 digits) under ZorgDomein's system, so ZorgDomein and
    /// the GP's system link the letter to the referral; Koerier's own, longer
    /// transaction ids under Koerier's system rather than passing them off as ZD-numbers.
    static func transactionIdentifier(_ transaction: TransactionID) -> JSONValue {
        [
            "system": .string(ZDNumber.isValid(transaction.value) ? FHIRSystems.zdNumber : FHIRSystems.koerierTransaction),
            "value": .string(transaction.value),
        ]
    }
}
