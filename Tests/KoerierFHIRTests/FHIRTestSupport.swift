import Foundation
import KoerierFHIR
import KoerierModel
import KoerierTestSupport
import Testing

/// Paths, sample loading and the patient values no problem may ever echo.
enum FHIRSamples {
    static let folder = Repository.samples.appendingPathComponent("fhir")
    static let invalidFolder = folder.appendingPathComponent("invalid")
    static let validBundles = ["appointment-request.json", "referral-letter.json", "supplement.json", "cancellation.json"]
    static let fase2Letter = folder.appendingPathComponent("fase-2-letter.fhir.json")

    /// Values of the synthetic patient (and the elfproef sample's BSN) that must never
    /// appear in a problem or an OperationOutcome.
    static let patientValues = ["Sanne", "Vries", "999990019", "1984", "123456789"]

    static func data(_ name: String) throws -> Data { try Data(contentsOf: folder.appendingPathComponent(name)) }
    static func text(_ name: String) throws -> String { try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) }

    static func read(_ data: Data, limits: FHIRLimits = .standard) throws(FHIRProblems) -> ZorgDomeinDocument {
        try ZorgDomeinBundleReader.read(data, receiver: Fixtures.centre, limits: limits)
    }

    /// The problems reading `data` gives; records an issue when it is accepted.
    static func problems(
        _ data: Data, limits: FHIRLimits = .standard, sourceLocation: SourceLocation = #_sourceLocation
    ) -> [FHIRProblem] {
        do {
            _ = try read(data, limits: limits)
            Issue.record("the Bundle was accepted", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.problems
        }
    }

    /// The referral letter sample with `replacements` applied; each must change the text,
    /// so a sample edited later cannot silently turn a test into a no-op.
    static func referralLetter(
        _ replacements: [(String, String)], sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Data {
        var text = try self.text("referral-letter.json")
        for (old, new) in replacements {
            #expect(text.contains(old), "the sample no longer contains \(old)", sourceLocation: sourceLocation)
            text = text.replacingOccurrences(of: old, with: new)
        }
        return Data(text.utf8)
    }

    static func leaks(_ text: String) -> [String] { patientValues.filter { text.contains($0) } }
}

/// The fase-2 letter of `Samples/return-letter-fase-2.xml`, built by hand (this module
/// does not parse XML); `ReturnLetterBundleTests` checks its texts against the XML.
enum Fase2Letter {
    static let preparedAt = Fixtures.timestamp("2026-06-08T09:20:00Z").instant

    static func model() throws -> ReturnLetter {
        let date = Fixtures.date
        let envelope = Envelope(
            messageID: Fixtures.id("2e3f4a5b-6c7d-4e8f-8091-a2b3c4d5e6f7"), transactionID: try TransactionID("ZD20260302007"),
            created: Fixtures.timestamp("2026-06-08T11:15:00+02:00"), documentKind: .terugkoppeling,
            sender: Party(
                type: .centrum, organisation: "Stress en Burn-out Centrum Haaglanden", practitioner: "L. Visser, vitaliteitscoach",
                agb: try AGBCode("90123456"), ura: try URANumber("90000456")),
            receiver: Party(
                type: .huisarts, organisation: "Huisartsenpraktijk De Linde", practitioner: "dr. A. Jansen",
                agb: try AGBCode("01012345"), ura: try URANumber("90000123")),
            inReplyTo: Fixtures.id("9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"))
        let measured = date("2026-06-05")
        return ReturnLetter(
            envelope: envelope, patient: Fixtures.patient, phase: .fase2,
            period: Period(start: date("2026-04-13"), end: date("2026-06-05")),
            soep: Soep(
                subjective: SoepLine(text: "Cliënte slaapt beter, heeft meer energie en werkt weer 2 x 4 uur."),
                objective: "Volgde 15 van 16 sessies. 4DKL-distress gedaald van 24 naar 15.",
                evaluation: SoepLine(
                    text: "Herstellende; restklachten bij hoge belasting.",
                    icpc: [try IcpcCode(code: "P78", label: "Surmenage/burn-out")]),
                plan: "Fase 3 met begeleiding terug naar werk."),
            measurements: Measurements(
                fourDKL: FourDKL(measuredOn: measured, distress: 15, depressie: 2, angst: 4, somatisatie: 9),
                phq9: PHQ9(measuredOn: measured, total: 7),
                positiveHealth: PositiveHealth(
                    measuredOn: measured, lichaamsfuncties: 6, mentaalWelbevinden: 5, zingeving: 6, kwaliteitVanLeven: 6,
                    meedoen: 6, dagelijksFunctioneren: 5)),
            goals: [
                Goal(
                    description: "Minstens 6 nachten per week 7 uur slapen.",
                    measure: "Slaapdagboek, wekelijks besproken met de coach.", targetDate: date("2026-06-05"), status: .inProgress),
                Goal(
                    description: "Werk hervatten tot 4 x 6 uur per week.", measure: "Urenregistratie, afgestemd met cliënte.",
                    targetDate: date("2026-09-11"), status: .open),
            ],
            adviceToReferrer:
                "Graag bij het volgende consult vragen naar slaap en energie; bij terugval kan cliënte opnieuw worden aangemeld.",
            nextStep: "Fase 3 start 8 juni 2026, met re-integratiebegeleiding.")
    }
}

/// Times a block: hostile input must be refused quickly, not merely eventually.
func elapsedSeconds(_ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    let duration = clock.measure(body)
    return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
