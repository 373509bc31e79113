import Foundation
import KoerierTestSupport
import Testing

/// The fase-2 letter is built by hand; this keeps it from drifting from the sample.
@Suite(.ownThreads) struct SampleDriftTests {
    @Test func theHandBuiltLetterCarriesTheSamplesTexts() throws {
        let sample = try String(contentsOf: Repository.samples.appendingPathComponent("return-letter-fase-2.xml"), encoding: .utf8)
        for text in Letters.sampleTexts { #expect(sample.contains(text), "\(text)") }
        let letter = Letters.fase2()
        for value in [
            letter.envelope.messageID.value, letter.envelope.transactionID.value, letter.envelope.sender.organisation,
            letter.envelope.sender.practitioner ?? "", letter.envelope.receiver.practitioner ?? "", letter.patient.bsn.digits,
            letter.patient.name.given, letter.patient.name.family, letter.patient.birthDate.description,
        ] {
            #expect(sample.contains(value), "\(value)")
        }
    }
}
