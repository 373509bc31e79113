import Foundation
import KoerierModel

/// Valid messages built in code (independent of the XML samples), for rule and round-trip tests.
public enum Fixtures {
    public static func date(_ text: String) -> CalendarDate { try! CalendarDate(parsing: text) }
    public static func timestamp(_ text: String) -> Timestamp { try! Timestamp(parsing: text) }
    public static func id(_ text: String) -> MessageID { try! MessageID(text) }

    public static let centre = Party(
        type: .centrum, organisation: "Stress en Burn-out Centrum Haaglanden",
        practitioner: "L. Visser", agb: try! AGBCode("90123456"), ura: try! URANumber("90000456"))
    public static let gp = Party(
        type: .huisarts, organisation: "Huisartsenpraktijk De Linde", practitioner: "dr. A. Jansen",
        agb: try! AGBCode("01012345"),
        address: Address(street: "Lindelaan", houseNumber: "12", postalCode: "2511 AB", city: "Den Haag"))
    public static let employer = Party(type: .werkgever, organisation: "Gemeente Voorbeeldstad, afdeling HR")

    public static let patient = Patient(
        bsn: try! BSN("999990019"), name: PersonName(given: "Sanne", prefix: "de", family: "Vries"),
        birthDate: date("1984-03-21"), sex: .female)

    public static func envelope(
        _ kind: DocumentKind, from sender: Party = centre, to receiver: Party = gp,
        inReplyTo: MessageID? = nil
    ) -> Envelope {
        Envelope(
            messageID: id("2e3f4a5b-6c7d-4e8f-8091-a2b3c4d5e6f7"), transactionID: try! TransactionID("ZD20260302007"),
            created: timestamp("2026-06-08T11:15:00+02:00"), documentKind: kind, sender: sender, receiver: receiver,
            inReplyTo: inReplyTo)
    }

    public static func returnLetter() -> ReturnLetter {
        let measured = date("2026-06-05")
        return ReturnLetter(
            envelope: envelope(.terugkoppeling, inReplyTo: id("9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")),
            patient: patient, phase: .fase2, period: Period(start: date("2026-04-13"), end: date("2026-06-05")),
            soep: Soep(
                subjective: SoepLine(text: "Slaapt beter.", icpc: [try! IcpcCode(code: "P02", label: "Acute stressreactie")]),
                objective: "Volgde 15 van 16 sessies.",
                evaluation: SoepLine(text: "Herstellende.", icpc: [try! IcpcCode(code: "P78", label: "Surmenage")]),
                plan: "Fase 3."),
            measurements: Measurements(
                fourDKL: FourDKL(measuredOn: measured, distress: 15, depressie: 2, angst: 4, somatisatie: 9),
                phq9: PHQ9(measuredOn: measured, total: 7),
                positiveHealth: PositiveHealth(
                    measuredOn: measured, lichaamsfuncties: 6, mentaalWelbevinden: 5, zingeving: 6,
                    kwaliteitVanLeven: 6, meedoen: 6, dagelijksFunctioneren: 5)),
            goals: [Goal(description: "Slapen", measure: "Slaapdagboek", targetDate: date("2026-07-01"), status: .inProgress)],
            adviceToReferrer: "Vraag naar slaap.", nextStep: "Fase 3 start 8 juni.")
    }

    public static func referral() -> Referral {
        Referral(
            envelope: envelope(.verwijzing, from: gp, to: centre),
            patient: patient, requestType: .refer, urgency: .routine,
            core: ReferralCore(
                reasons: [.stressBurnoutProgramma, .werkverzuim], question: "Graag begeleiding.",
                episodes: [try! IcpcCode(code: "P78", label: "Surmenage")], history: "Geen.", medication: nil,
                fourDKL: FourDKL(measuredOn: date("2026-06-01"), distress: 24, depressie: 4, angst: 6, somatisatie: 14),
                phq9: PHQ9(measuredOn: date("2026-06-01"), total: 11)),
            consent: Consent(recordedOn: date("2026-06-01"), allowed: [.huisarts, .werkgever]),
            attachments: [Attachment(mimeType: .plainText, fileName: "notitie.txt", data: Data("POH-GGZ notitie\n".utf8))])
    }

    public static func participationNotice() -> ParticipationNotice {
        ParticipationNotice(
            envelope: envelope(.deelnamebericht, to: employer),
            participant: Participant(name: PersonName(given: "Sanne", prefix: "de", family: "Vries"), employeeNumber: "E-40211"),
            status: .actief,
            programme: [
                ProgrammeBlock(sequence: 1, start: date("2026-03-09"), end: date("2026-04-10")),
                ProgrammeBlock(sequence: 2, start: date("2026-04-13")),
            ],
            attendance: Attendance(planned: 24, attended: 22),
            workAdvice: [AgreedAdvice(text: "Opbouw naar 4 x 6 uur.", agreedOn: date("2026-06-05"))])
    }

    public static func receipt(outcome: ReceiptOutcome = .accepted) -> Receipt {
        let answered = id("3f1c2a9e-5b7d-4e21-9a0c-7d1e2f3a4b5c")
        return Receipt(
            envelope: envelope(.ontvangstbevestiging, from: gp, to: centre, inReplyTo: answered),
            answeredMessageID: answered,
            answeredDigest: try! SHA256Hex(String(repeating: "ab", count: 32)),
            outcome: outcome, receivedAt: timestamp("2026-06-08T11:14:59.500+02:00"))
    }

    public static var allKinds: [Message] {
        [
            .referral(referral()), .returnLetter(returnLetter()), .participationNotice(participationNotice()),
            .receipt(receipt()), .receipt(receipt(outcome: .rejected(code: .signatureInvalid, text: "Handtekening <ongeldig> & \"fout\""))),
        ]
    }
}

/// Deterministic pseudo-random text with XML's awkward characters, for round-trip tests.
public struct TextGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }

    public mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    /// Text that starts and ends with a letter (names may not have outer white space) and
    /// holds markup characters, quotes, tabs, newlines, carriage returns, accents and emoji.
    public mutating func text(maxLength: Int = 60) -> String {
        let alphabet: [String] = [
            "a", "B", "é", "ë", "ï", "<", ">", "&", "\"", "'", " ", "\t", "\n", "\r", "]]>", "&amp;",
            "😀", "中", "\u{00A0}", "ß", "0", "9", "-", "/", "\\", "{", "%",
        ]
        let length = Int(next() % UInt64(maxLength))
        var result = "A"
        for _ in 0..<length { result += alphabet[Int(next() % UInt64(alphabet.count))] }
        return result + "z"
    }

    /// Like `text`, shaped as the schemas' Name (`\S+( \S+)*`): words of non-space
    /// characters separated by single spaces.
    public mutating func name(maxLength: Int = 30) -> String {
        text(maxLength: maxLength)
            .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
            .joined(separator: " ")
    }
}
