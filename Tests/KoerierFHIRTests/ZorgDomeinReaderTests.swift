import Foundation
import KoerierFHIR
import KoerierModel
import KoerierTestSupport
import Testing

@Suite struct ZorgDomeinReaderTests {
    @Test func theAppointmentRequestAndTheLetterMapToOneTransaction() throws {
        let appointment = try FHIRSamples.read(FHIRSamples.data("appointment-request.json"))
        let letter = try FHIRSamples.read(FHIRSamples.data("referral-letter.json"))

        #expect(appointment.zdNumber == letter.zdNumber)
        #expect(letter.zdNumber.value == "ZD123456789")
        #expect(letter.referral.envelope.transactionID == letter.zdNumber)
        #expect(appointment.documentType == .appointmentRequest)
        #expect(letter.documentType == .referralLetter)
        #expect(appointment.referral.envelope.messageID != letter.referral.envelope.messageID)
        #expect(letter.bundleID == "a1f0c3d2-7b54-4e19-9c2a-5d8e0f1a2b02")
        #expect(letter.referral.envelope.messageID == FHIRIdentifiers.messageID(bundleID: letter.bundleID))

        for document in [appointment, letter] {
            let referral = document.referral
            #expect(referral.patient.bsn.digits == "999990019")
            #expect(referral.patient.name == PersonName(given: "Sanne", prefix: "de", family: "Vries"))
            #expect(referral.patient.birthDate == Fixtures.date("1984-03-21"))
            #expect(referral.patient.sex == .female)
            let sender = referral.envelope.sender
            #expect(sender.type == .huisarts)
            #expect(sender.organisation == "Huisartsenpraktijk De Linde")
            #expect(sender.practitioner == "dr. A. Jansen")
            #expect(sender.agb?.value == "01012345", "the organisation's AGB, not the practitioner's")
            #expect(sender.ura?.value == "90000123")
            #expect(sender.address == Address(street: "Lindelaan", houseNumber: "12", postalCode: "2511 AB", city: "Den Haag"))
            #expect(referral.envelope.receiver == Fixtures.centre)
            #expect(referral.envelope.documentKind == .verwijzing)
            #expect(referral.requestType == .refer)
            #expect(referral.urgency == .routine)
            #expect(referral.core.reasons == [.stressBurnoutProgramma])
            #expect(referral.consent == Consent(recordedOn: Fixtures.date("2026-03-02"), allowed: [.huisarts]))
        }
        #expect(letter.referral.envelope.created == Fixtures.timestamp("2026-03-02T14:40:00+01:00"))
        #expect(
            letter.referral.core.question
                == "Graag intake en begeleiding in het stress- en burn-outprogramma.\nCliënte werkt sinds 6 weken niet & slaapt slecht.")
        #expect(
            letter.referral.core.history == "2019: overspanning, hersteld na 5 maanden.\nGeen somatische voorgeschiedenis van belang.")
        #expect(letter.referral.core.medication == "Geen.")
        // Logistics only: a fixed question, no text from the Bundle.
        #expect(appointment.referral.core.question == ZorgDomeinBundleReader.appointmentQuestion)
        #expect(appointment.referral.core.history == nil && appointment.referral.core.medication == nil)
    }

    @Test func theSameBundleIdAlwaysGivesTheSameMessageId() throws {
        let data = try FHIRSamples.data("referral-letter.json")
        #expect(try FHIRSamples.read(data).referral.envelope.messageID == FHIRSamples.read(data).referral.envelope.messageID)
        let first = FHIRIdentifiers.messageID(bundleID: "abc-1")
        #expect(first == FHIRIdentifiers.messageID(bundleID: "abc-1"))
        #expect(first != FHIRIdentifiers.messageID(bundleID: "abc-2"))
        // Version 5 and the RFC 4122 variant, like any name-based UUID.
        let characters = Array(first.value)
        #expect(characters[14] == "5")
        #expect("89ab".contains(characters[19]))
    }

    @Test func supplementsAndCancellationsKeepTheirTextAndNeedNoMessageLink() throws {
        let supplement = try FHIRSamples.read(FHIRSamples.data("supplement.json"))
        #expect(supplement.documentType == .supplement)
        #expect(supplement.referral.envelope.documentKind == .aanvulling)
        #expect(supplement.referral.envelope.inReplyTo == nil, "linked by ZD-number, not by message id")
        #expect(supplement.referral.core.question.hasPrefix("Aanvulling op de verwijzing via ZorgDomein.\n\nAanvulling:\n4DKL"))
        let cancellation = try FHIRSamples.read(FHIRSamples.data("cancellation.json"))
        #expect(cancellation.documentType == .cancellation)
        #expect(cancellation.referral.envelope.documentKind == .annulering)
        #expect(cancellation.zdNumber.value == "ZD123456789")
        #expect(
            cancellation.referral.core.question
                == "Annulering van de verwijzing via ZorgDomein.\n\nReden annulering:\nCliënte heeft zich afgemeld.")
    }

    @Test(arguments: [("urgent", Urgency.urgent), ("asap", .urgent), ("stat", .urgent), ("routine", .routine)])
    func urgencyComesFromTheReferralRequestPriority(_ priority: String, _ urgency: Urgency) throws {
        let data = try FHIRSamples.referralLetter([("\"priority\": \"routine\"", "\"priority\": \"\(priority)\"")])
        #expect(try FHIRSamples.read(data).referral.urgency == urgency)
    }

    @Test func anUnknownPriorityIsAProblem() throws {
        let data = try FHIRSamples.referralLetter([("\"priority\": \"routine\"", "\"priority\": \"soonish\"")])
        #expect(FHIRSamples.problems(data) == [problem("Bundle.entry[5].resource.priority", "priority-code")])
    }

    @Test func theAnswerSuffixIsDroppedAndZPNumbersAreTaken() throws {
        let answer = try FHIRSamples.referralLetter([("\"ZD123456789\"", "\"ZD123456789_ANTW\"")])
        #expect(try FHIRSamples.read(answer).zdNumber.value == "ZD123456789")
        let zp = try FHIRSamples.referralLetter([("\"ZD123456789\"", "\"ZP987654321\"")])
        #expect(try FHIRSamples.read(zp).zdNumber.value == "ZP987654321")
    }

    @Test(arguments: ["ZD12345678", "ZD1234567890", "XY123456789", "ZD123456789_ANT", "zd123456789"])
    func malformedZDNumbersAreRefused(_ value: String) throws {
        let data = try FHIRSamples.referralLetter([("\"ZD123456789\"", "\"\(value)\"")])
        #expect(FHIRSamples.problems(data).map(\.rule) == ["zd-number-format"])
    }

    @Test func theZDNumberMustUseItsSystem() throws {
        let data = try FHIRSamples.referralLetter([("NamingSystem/zd-number", "NamingSystem/zd-nummer")])
        #expect(FHIRSamples.problems(data) == [problem("Bundle.entry[0].resource.identifier.system", "identifier-system")])
    }

    @Test func everyProblemOfAStageIsReported() throws {
        let data = try FHIRSamples.referralLetter([
            ("\"gender\": \"female\"", "\"gender\": \"vrouw\""),
            ("\"birthDate\": \"1984-03-21\"", "\"birthDate\": \"1984\""),
            ("\"value\": \"01012345\"", "\"value\": \"0101\""),
            ("14:40:00+01:00\"", "14:40:00\""),
        ])
        let problems = FHIRSamples.problems(data)
        #expect(
            problems.map { "\($0.rule) \($0.path)" }.sorted() == [
                "agb-format Bundle.entry[4].resource.identifier[0].value",
                "date-format Bundle.entry[1].resource.birthDate",
                "datetime-zone Bundle.entry[0].resource.date",
                "gender-code Bundle.entry[1].resource.gender",
            ])
        #expect(problems.allSatisfy { FHIRSamples.leaks($0.description).isEmpty })
    }

    @Test func theModelsRulesArePointedAtTheBundle() throws {
        let lateBirth = try FHIRSamples.referralLetter([("\"birthDate\": \"1984-03-21\"", "\"birthDate\": \"2027-01-01\"")])
        #expect(FHIRSamples.problems(lateBirth) == [problem("Bundle.entry[1].resource.birthDate", "date-after-created")])

        // Without an organisation AGB the practitioner's stands in; without either, the
        // model's rule for a GP sender points at the Organization's identifiers.
        let organisationAGB = (
            "{\n            \"system\": \"http://fhir.nl/fhir/NamingSystem/agb-z\",\n            \"value\": \"01012345\"\n          },\n          ",
            ""
        )
        let practitionerAGB = (
            "{\n            \"system\": \"http://fhir.nl/fhir/NamingSystem/agb-z\",\n            \"value\": \"01054321\"\n          },\n          ",
            ""
        )
        #expect(try FHIRSamples.read(FHIRSamples.referralLetter([organisationAGB])).referral.envelope.sender.agb?.value == "01054321")
        let noAGB = try FHIRSamples.referralLetter([organisationAGB, practitionerAGB])
        #expect(FHIRSamples.problems(noAGB) == [problem("Bundle.entry[4].resource.identifier", "agb-required")])

        let blankQuestion = try FHIRSamples.referralLetter([
            (
                "<p>Graag intake en begeleiding in het stress- en burn-outprogramma.</p><p>Cliënte werkt sinds 6 weken niet &amp; slaapt slecht.</p>",
                "<p> </p>"
            )
        ])
        #expect(FHIRSamples.problems(blankQuestion) == [problem("Bundle.entry[0].resource.section[0]", "text-blank")])
    }

    @Test func theFamilyNameIsReadWholeWithoutThePrefixExtensions() throws {
        let text = try FHIRSamples.text("referral-letter.json")
        guard let start = text.range(of: "\"_family\": {"), let end = text.range(of: "\"given\"", range: start.upperBound..<text.endIndex)
        else {
            Issue.record("the sample has no _family element")
            return
        }
        let data = Data(text.replacingCharacters(in: start.lowerBound..<end.lowerBound, with: "").utf8)
        #expect(try FHIRSamples.read(data).referral.patient.name == PersonName(given: "Sanne", prefix: nil, family: "de Vries"))
    }

    @Test func relativeReferencesResolveByTypeAndId() throws {
        let data = try FHIRSamples.referralLetter([
            ("\"resourceType\": \"Patient\",", "\"resourceType\": \"Patient\",\n        \"id\": \"p1\","),
            (
                "\"subject\": {\n          \"reference\": \"urn:uuid:3c5e1a7b-2f64-4d0e-8b19-6a2c4e8f0d12\"",
                "\"subject\": {\n          \"reference\": \"Patient/p1\""
            ),
        ])
        #expect(try FHIRSamples.read(data).referral.patient.bsn.digits == "999990019")
        let wrongType = try FHIRSamples.referralLetter([
            (
                "\"subject\": {\n          \"reference\": \"urn:uuid:3c5e1a7b-2f64-4d0e-8b19-6a2c4e8f0d12\"",
                "\"subject\": {\n          \"reference\": \"urn:uuid:3c5e1a7b-2f64-4d0e-8b19-6a2c4e8f0d15\""
            )
        ])
        #expect(FHIRSamples.problems(wrongType) == [problem("Bundle.entry[0].resource.subject.reference", "reference-type")])
    }

    @Test func theShapeOfTheBundleIsCheckedFirst() throws {
        let collection = try FHIRSamples.referralLetter([
            ("\"type\": \"document\"", "\"type\": \"collection\""), ("\"a1f0c3d2-7b54-4e19-9c2a-5d8e0f1a2b02\"", "\"no/slash\""),
        ])
        #expect(FHIRSamples.problems(collection) == [problem("Bundle.type", "bundle-type"), problem("Bundle.id", "bundle-id")])
        let patient = Data(#"{"resourceType": "Patient", "id": "x"}"#.utf8)
        #expect(FHIRSamples.problems(patient) == [problem("Bundle.resourceType", "resource-type")])
        let duplicateUrl = try FHIRSamples.referralLetter([
            (
                "\"fullUrl\": \"urn:uuid:3c5e1a7b-2f64-4d0e-8b19-6a2c4e8f0d16\"",
                "\"fullUrl\": \"urn:uuid:3c5e1a7b-2f64-4d0e-8b19-6a2c4e8f0d15\""
            )
        ])
        #expect(FHIRSamples.problems(duplicateUrl) == [problem("Bundle.entry[5].fullUrl", "duplicate-fullurl")])
    }

    @Test func tooManyEntriesAreRefusedBeforeTheyAreRead() throws {
        let data = try FHIRSamples.data("referral-letter.json")
        #expect(FHIRSamples.problems(data, limits: FHIRLimits(maxEntries: 5)) == [problem("Bundle.entry", "entry-limit")])
    }

    private func problem(_ path: String, _ rule: String) -> FHIRProblemKey { FHIRProblemKey(path: path, rule: rule) }
}

/// A problem's path and rule: what tests pin down (the wording may be improved).
struct FHIRProblemKey: Equatable, CustomStringConvertible {
    let path: String
    let rule: String
    var description: String { "\(rule) at \(path)" }
}

func == (problems: [FHIRProblem], keys: [FHIRProblemKey]) -> Bool {
    problems.map { FHIRProblemKey(path: $0.path, rule: $0.rule) } == keys
}

@Suite struct ElementPathTests {
    @Test func aBadElementOfAStringArrayIsNamedByItsPosition() throws {
        let data = try FHIRSamples.referralLetter([("\"given\": [\n              \"Sanne\"", "\"given\": [\n              7")])
        #expect(
            FHIRSamples.problems(data) == [
                FHIRProblemKey(path: "Bundle.entry[1].resource.name[0].given[0]", rule: "value-type"),
                FHIRProblemKey(path: "Bundle.entry[1].resource.name[0].given", rule: "required"),
            ])
    }
}
