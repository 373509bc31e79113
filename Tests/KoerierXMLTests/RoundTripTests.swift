import Foundation
import KoerierModel
import KoerierTestSupport
import KoerierXML
import Testing

@Suite struct RoundTripTests {
    @Test(arguments: Fixtures.allKinds)
    func everyKindRoundTrips(_ message: Message) throws {
        let data = try sharedCodec.encode(message)
        #expect(try sharedCodec.decode(data) == message)
    }

    /// Text with markup characters, quotes, CR/LF/tab, "]]>", emoji and accents in every
    /// free-text field survives serialize → parse unchanged, and stays schema-valid.
    @Test(arguments: 1...40)
    func generatedTextRoundTrips(seed: Int) throws {
        var random = TextGenerator(seed: UInt64(seed) &* 0x2545_F491_4F6C_DD1D)
        var letter = Fixtures.returnLetter()
        letter.soep.subjective.text = random.text(maxLength: 300)
        letter.soep.objective = random.text()
        letter.soep.evaluation.text = random.text()
        letter.soep.plan = random.text()
        letter.soep.evaluation.icpc[0].label = random.text()
        letter.adviceToReferrer = random.text(maxLength: 500)
        letter.nextStep = random.text()
        letter.patient.name = PersonName(given: random.name(), prefix: random.name(), family: random.name())
        letter.envelope.sender.organisation = random.name()
        letter.envelope.receiver.practitioner = random.name()
        letter.goals[0].description = random.text()
        let data = try sharedCodec.encode(.returnLetter(letter))
        #expect(try sharedCodec.decode(data) == .returnLetter(letter))

        var referral = Fixtures.referral()
        referral.core.question = random.text(maxLength: 400)
        referral.core.history = random.text()
        referral.attachments[0].data = Data((0..<Int(random.next() % 2000 + 1)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        referral.attachments[0].declaredSize = referral.attachments[0].data.count
        #expect(try sharedCodec.decode(try sharedCodec.encode(.referral(referral))) == .referral(referral))
    }

    @Test func controlCharactersCannotBeWrittenAndTheFieldIsNamed() {
        var letter = Fixtures.returnLetter()
        letter.soep.plan = "Plan\u{0001}"
        #expect {
            try sharedCodec.encode(.returnLetter(letter))
        } throws: { error in
            (error as? XMLEncodingError)?.field == "Soep/P/Text"
        }
    }

    @Test func encodingRefusesAMessageThatBreaksARule() {
        var letter = Fixtures.returnLetter()
        letter.period = Period(start: Fixtures.date("2026-05-01"), end: Fixtures.date("2026-04-01"))
        #expect {
            try sharedCodec.encode(.returnLetter(letter))
        } throws: { error in
            (error as? XMLProblems)?.problems.map(\.rule) == ["period-order"]
        }
        // Without verification the bytes are written, and decoding names the line.
        let data = try? sharedCodec.encode(.returnLetter(letter), verify: false)
        #expect(data != nil)
        #expect(sharedCodec.problems(in: data ?? Data()).first?.field == "Period/End")
    }

    @Test func encodingRefusesASchemaInvalidMessage() {
        var letter = Fixtures.returnLetter()
        letter.measurements.phq9?.total = 99
        #expect {
            try sharedCodec.encode(.returnLetter(letter))
        } throws: { error in
            (error as? XMLProblems)?.problems.first?.rule == "schema"
        }
    }

    @Test(arguments: [" Sanne", "Sanne ", "De  Linde", "De\tLinde", ""])
    func namesAreWordsSeparatedBySingleSpaces(_ name: String) {
        var letter = Fixtures.returnLetter()
        letter.envelope.sender.organisation = name
        #expect {
            try sharedCodec.encode(.returnLetter(letter))
        } throws: { error in
            (error as? XMLProblems)?.problems.first?.field == "Envelope/Sender/Organisation"
        }
    }
}
