import Foundation
import KoerierEDIFACT
import KoerierModel
import KoerierTestSupport

/// The letters the tests write.
enum Letters {
    /// Appended to the sample's advice: the sample itself holds no `+`, `'` or `?`, and the
    /// writer must escape all four of EDIFACT's special characters.
    static let specials = " Vragen? Bel de coach (ma+di, 9:00-12:00 'spreekuur')."

    /// `Samples/return-letter-fase-2.xml` built by hand (this module cannot decode XML);
    /// `SampleDriftTests` checks its texts against the sample.
    static func fase2() -> ReturnLetter {
        let sender = Party(
            type: .centrum, organisation: "Stress en Burn-out Centrum Haaglanden", practitioner: "L. Visser, vitaliteitscoach",
            agb: try! AGBCode("90123456"), ura: try! URANumber("90000456"))
        let receiver = Party(
            type: .huisarts, organisation: "Huisartsenpraktijk De Linde", practitioner: "dr. A. Jansen",
            agb: try! AGBCode("01012345"), ura: try! URANumber("90000123"))
        let envelope = Envelope(
            messageID: Fixtures.id("2e3f4a5b-6c7d-4e8f-8091-a2b3c4d5e6f7"), transactionID: try! TransactionID("ZD20260302007"),
            created: Fixtures.timestamp("2026-06-08T11:15:00+02:00"), documentKind: .terugkoppeling, sender: sender, receiver: receiver,
            inReplyTo: Fixtures.id("9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"))
        let measured = Fixtures.date("2026-06-05")
        return ReturnLetter(
            envelope: envelope, patient: Fixtures.patient, phase: .fase2,
            period: Period(start: Fixtures.date("2026-04-13"), end: Fixtures.date("2026-06-05")),
            soep: Soep(
                subjective: SoepLine(text: sampleTexts[0]), objective: sampleTexts[1],
                evaluation: SoepLine(text: sampleTexts[2], icpc: [try! IcpcCode(code: "P78", label: "Surmenage/burn-out")]),
                plan: sampleTexts[3]),
            measurements: Measurements(
                fourDKL: FourDKL(measuredOn: measured, distress: 15, depressie: 2, angst: 4, somatisatie: 9),
                phq9: PHQ9(measuredOn: measured, total: 7),
                positiveHealth: PositiveHealth(
                    measuredOn: measured, lichaamsfuncties: 6, mentaalWelbevinden: 5, zingeving: 6, kwaliteitVanLeven: 6, meedoen: 6,
                    dagelijksFunctioneren: 5)),
            goals: [
                Goal(description: sampleTexts[4], measure: sampleTexts[5], targetDate: Fixtures.date("2026-06-05"), status: .inProgress),
                Goal(description: sampleTexts[6], measure: sampleTexts[7], targetDate: Fixtures.date("2026-09-11"), status: .open),
            ],
            adviceToReferrer: sampleTexts[8] + specials, nextStep: sampleTexts[9])
    }

    /// The free texts of the fase-2 sample, in document order.
    static let sampleTexts = [
        "Cliënte slaapt beter, heeft meer energie en werkt weer 2 x 4 uur.",
        "Volgde 15 van 16 sessies. 4DKL-distress gedaald van 24 naar 15.",
        "Herstellende; restklachten bij hoge belasting.",
        "Fase 3 met begeleiding terug naar werk.",
        "Minstens 6 nachten per week 7 uur slapen.",
        "Slaapdagboek, wekelijks besproken met de coach.",
        "Werk hervatten tot 4 x 6 uur per week.",
        "Urenregistratie, afgestemd met cliënte.",
        "Graag bij het volgende consult vragen naar slaap en energie; bij terugval kan cliënte opnieuw worden aangemeld.",
        "Fase 3 start 8 juni 2026, met re-integratiebegeleiding.",
    ]

    static func addressing(_ charset: EDIFACTCharset) -> MEDVRIAddressing {
        try! MEDVRIAddressing(sender: "500001111", recipient: "500002222", charset: charset)
    }

    /// 2026-01-15 09:30 UTC: 10:30 in Amsterdam (winter time).
    static let preparedAt = Date(timeIntervalSince1970: 1_768_469_400)

    static func write(_ letter: ReturnLetter, _ charset: EDIFACTCharset) throws -> Data {
        try MEDVRIWriter.interchange(letter, addressing: addressing(charset), preparedAt: preparedAt)
    }

    /// The fase-2 letter.
    static func write(_ charset: EDIFACTCharset) throws -> Data { try write(fase2(), charset) }
}

/// The interchange as lines of bytes (the writer puts one segment on each), for tests that
/// break one segment on purpose.
struct Lines {
    var lines: [[UInt8]]

    init(_ data: Data) { lines = data.split(separator: 0x0A, omittingEmptySubsequences: true).map(Array.init) }

    var data: Data { Data(lines.joined(separator: [0x0A]) + [0x0A]) }

    func index(of prefix: String) -> Int? { lines.firstIndex { $0.starts(with: Array(prefix.utf8)) } }

    /// The first TXT line that holds text.
    var textLine: Int? { lines.indices.first { lines[$0].starts(with: Array("TXT:".utf8)) && lines[$0].count > 8 } }

    func string(_ index: Int) -> String { String(decoding: lines[index], as: UTF8.self) }

    mutating func replace(_ index: Int, with text: String) { lines[index] = Array(text.utf8) }
}
