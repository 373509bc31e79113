import Foundation
import KoerierFHIR
import KoerierModel
import KoerierTestSupport
import Testing

/// The written Bundle, read back with Foundation (independent of the writer's own types).
struct WrittenBundle {
    let json: [String: Any]
    let resources: [[String: Any]]

    init(_ data: Data) throws {
        json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entries = try #require(json["entry"] as? [[String: Any]])
        resources = try entries.map { try #require($0["resource"] as? [String: Any]) }
    }

    func resources(_ type: String) -> [[String: Any]] { resources.filter { $0["resourceType"] as? String == type } }

    /// Every narrative's text: tags removed, the five XML entities decoded.
    var narrativeText: String {
        var divs: [String] = []
        func collect(_ value: Any) {
            if let object = value as? [String: Any] {
                if let div = object["div"] as? String { divs.append(div) }
                object.values.forEach(collect)
            } else if let array = value as? [Any] {
                array.forEach(collect)
            }
        }
        collect(json)
        let stripped = divs.joined(separator: "\n").replacingOccurrences(of: "<[^>]*>", with: "\n", options: .regularExpression)
        return [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&amp;", "&")].reduce(stripped) {
            $0.replacingOccurrences(of: $1.0, with: $1.1)
        }
    }

    /// Each component's code and score of the Observation with this code.
    func scores(_ code: String) -> [String: Int] {
        guard let observation = resources("Observation").first(where: { codes($0["code"]).contains(code) }) else { return [:] }
        var scores: [String: Int] = [:]
        if let quantity = observation["valueQuantity"] as? [String: Any] { scores[code] = quantity["value"] as? Int }
        for component in observation["component"] as? [[String: Any]] ?? [] {
            if let name = codes(component["code"]).first, let quantity = component["valueQuantity"] as? [String: Any] {
                scores[name] = quantity["value"] as? Int
            }
        }
        return scores
    }

    func codes(_ concept: Any?) -> [String] {
        ((concept as? [String: Any])?["coding"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
    }
}

@Suite struct ReturnLetterBundleTests {
    @Test func theFase2ModelMatchesTheXMLSample() throws {
        // The hand-built model must say what the XML sample says.
        let xml = try String(contentsOf: Repository.samples.appendingPathComponent("return-letter-fase-2.xml"), encoding: .utf8)
        let letter = try Fase2Letter.model()
        let texts =
            [
                letter.soep.subjective.text, letter.soep.objective, letter.soep.evaluation.text, letter.soep.plan,
                letter.adviceToReferrer, letter.nextStep, letter.envelope.messageID.value, letter.envelope.transactionID.value,
                letter.envelope.sender.practitioner ?? "", letter.envelope.created.description, "<Distress>15</Distress>",
                "<Total>7</Total>", "<Zingeving>6</Zingeving>", "<Icpc code=\"P78\">Surmenage/burn-out</Icpc>",
            ] + letter.goals.flatMap { [$0.description, $0.measure, $0.targetDate.description] }
        for text in texts { #expect(xml.contains(text), "\(text)") }
    }

    @Test func theFase2BundleCarriesTheLettersContent() throws {
        let letter = try Fase2Letter.model()
        let bundle = try WrittenBundle(FHIRReturnLetter.bundle(letter, preparedAt: Fase2Letter.preparedAt))
        #expect(bundle.json["type"] as? String == "document")
        #expect(bundle.json["id"] as? String == letter.envelope.messageID.value)
        #expect((bundle.json["meta"] as? [String: Any])?["lastUpdated"] as? String == "2026-06-08T09:20:00Z")
        #expect((bundle.json["identifier"] as? [String: String])?["value"] == "urn:uuid:2e3f4a5b-6c7d-4e8f-8091-a2b3c4d5e6f7")

        let composition = try #require(bundle.resources.first)
        #expect(composition["resourceType"] as? String == "Composition")
        #expect(composition["title"] as? String == "Terugkoppeling — Fase 2 – matige stress en burn-outklachten")
        #expect(composition["date"] as? String == "2026-06-08T11:15:00+02:00")
        #expect(composition["status"] as? String == "final")
        #expect(bundle.codes(composition["type"]) == ["11488-4"])
        #expect((composition["identifier"] as? [String: String])?["value"] == "ZD20260302007")
        #expect(composition["relatesTo"] == nil)

        let narrative = bundle.narrativeText
        let expected = [
            letter.soep.subjective.text, letter.soep.objective, letter.soep.evaluation.text, letter.soep.plan,
            letter.adviceToReferrer, letter.nextStep, "P78 Surmenage/burn-out",
        ]
        for text in expected + letter.goals.flatMap({ [$0.description, $0.measure] }) {
            #expect(narrative.contains(text), "\(text)")
        }
        #expect(bundle.scores("4dkl") == ["4dkl-distress": 15, "4dkl-depressie": 2, "4dkl-angst": 4, "4dkl-somatisatie": 9])
        #expect(bundle.scores("44261-6") == ["44261-6": 7])
        #expect(
            bundle.scores("positieve-gezondheid") == [
                "lichaamsfuncties": 6, "mentaal-welbevinden": 5, "zingeving": 6, "kwaliteit-van-leven": 6, "meedoen": 6,
                "dagelijks-functioneren": 5,
            ])
        for observation in bundle.resources("Observation") {
            #expect(observation["effectiveDateTime"] as? String == "2026-06-05")
            #expect(observation["status"] as? String == "final")
        }
        #expect(bundle.resources("Condition").map { bundle.codes($0["code"]) } == [["P78"]])
        let patient = try #require(bundle.resources("Patient").first)
        #expect((patient["identifier"] as? [[String: String]])?.first?["value"] == "999990019")
        #expect(patient["gender"] as? String == "female")
        #expect(patient["birthDate"] as? String == "1984-03-21")
        let organisation = try #require(bundle.resources("Organization").first)
        #expect((organisation["identifier"] as? [[String: String]])?.compactMap { $0["value"] } == ["90123456", "90000456"])
    }

    /// Set KOERIER_WRITE_FHIR_SAMPLES=1 to rewrite the sample after a deliberate change.
    @Test func theCommittedSampleIsWhatTheWriterMakes() throws {
        let written = try FHIRReturnLetter.bundle(Fase2Letter.model(), preparedAt: Fase2Letter.preparedAt)
        if ProcessInfo.processInfo.environment["KOERIER_WRITE_FHIR_SAMPLES"] == "1" {
            try written.write(to: FHIRSamples.fase2Letter)
        }
        #expect(try Data(contentsOf: FHIRSamples.fase2Letter) == written)
    }

    @Test func theSameLetterGivesTheSameBytesWithSortedKeys() throws {
        let letter = Fixtures.returnLetter()
        let first = try FHIRReturnLetter.bundle(letter, preparedAt: Fase2Letter.preparedAt)
        #expect(first == (try FHIRReturnLetter.bundle(letter, preparedAt: Fase2Letter.preparedAt)))
        let topLevelKeys = String(decoding: first, as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix("  \"") }.map { String($0.dropFirst(3).prefix { $0 != "\"" }) }
        #expect(topLevelKeys == ["entry", "id", "identifier", "meta", "resourceType", "type"])
        var other = letter
        other.envelope.messageID = Fixtures.id("11111111-2222-4333-8444-555555555555")
        let second = try WrittenBundle(FHIRReturnLetter.bundle(other, preparedAt: Fase2Letter.preparedAt))
        let firstIds = try WrittenBundle(first).resources.compactMap { $0["id"] as? String }
        #expect(Set(firstIds).isDisjoint(with: second.resources.compactMap { $0["id"] as? String }))
        // Fixtures.returnLetter() codes both S (P02) and E (P78).
        #expect(try WrittenBundle(first).resources("Condition").count == 2)
    }

    @Test func aCorrectionReplacesTheLetterItCorrects() throws {
        var letter = Fixtures.returnLetter()
        letter.envelope.documentKind = .terugkoppelingCorrectie
        letter.corrects = Fixtures.id("4a4a4a4a-1b1b-4c2c-8d3d-5e5e5e5e5e5e")
        let composition = try #require(try WrittenBundle(FHIRReturnLetter.bundle(letter, preparedAt: Date())).resources.first)
        let relatesTo = try #require(composition["relatesTo"] as? [[String: Any]])
        #expect(relatesTo.count == 1)
        #expect(relatesTo[0]["code"] as? String == "replaces")
        #expect(
            (relatesTo[0]["targetIdentifier"] as? [String: String])?["value"] == "urn:uuid:4a4a4a4a-1b1b-4c2c-8d3d-5e5e5e5e5e5e")
        #expect((composition["title"] as? String)?.hasSuffix("(correctie)") == true)
    }

    @Test func aZDNumberKeepsZorgDomeinsSystem() throws {
        var letter = Fixtures.returnLetter()
        letter.envelope.transactionID = try TransactionID("ZD123456789")
        let composition = try #require(try WrittenBundle(FHIRReturnLetter.bundle(letter, preparedAt: Date())).resources.first)
        #expect((composition["identifier"] as? [String: String])?["system"] == FHIRSystems.zdNumber)
        let koerier = try #require(try WrittenBundle(FHIRReturnLetter.bundle(Fixtures.returnLetter(), preparedAt: Date())).resources.first)
        #expect((koerier["identifier"] as? [String: String])?["system"] == FHIRSystems.koerierTransaction)
    }

    @Test func letterTextIsEscapedNeverMarkup() throws {
        var letter = Fixtures.returnLetter()
        letter.soep.objective = "<script>alert('x')</script> & \"q\""
        let data = try FHIRReturnLetter.bundle(letter, preparedAt: Date())
        let bundle = try WrittenBundle(data)
        #expect(!String(decoding: data, as: UTF8.self).contains("<script>"))
        #expect(bundle.narrativeText.contains("<script>alert('x')</script> & \"q\""))
    }

    @Test func aLetterThatBreaksTheRulesIsNotWritten() {
        var letter = Fixtures.returnLetter()
        letter.soep.subjective.text = "  "
        letter.measurements.phq9?.total = 30
        let error = #expect(throws: FHIRProblems.self) { try FHIRReturnLetter.bundle(letter, preparedAt: Date()) }
        #expect(
            error?.problems.map { "\($0.rule) \($0.path)" } == [
                "text-blank ReturnLetter/Soep/S/Text", "score-range ReturnLetter/Measurements/PHQ9/Total",
            ])
    }

    @Test func aLetterWithoutMeasurementsOrGoalsHasNoSuchSections() throws {
        var letter = Fixtures.returnLetter()
        letter.measurements = Measurements()
        letter.goals = []
        let bundle = try WrittenBundle(FHIRReturnLetter.bundle(letter, preparedAt: Date()))
        #expect(bundle.resources("Observation").isEmpty)
        let titles = (bundle.resources[0]["section"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String }
        #expect(titles == ["S – Subjectief", "O – Objectief", "E – Evaluatie", "P – Plan", "HASP kern"])
    }
}
