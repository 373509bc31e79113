import Foundation
import KoerierModel
import KoerierTestSupport
import KoerierXML
import Testing

@Suite struct SampleTests {
    @Test func thereIsAValidSampleForEveryKindAndEveryPhase() throws {
        let messages = try Repository.validSampleFiles.map { try sharedCodec.decode(try Repository.data($0)) }
        #expect(Set(messages.map(\.kind)) == Set(MessageKind.allCases))
        let phases = messages.compactMap { message -> Phase? in
            if case .returnLetter(let letter) = message { return letter.phase }
            return nil
        }
        #expect(Set(phases) == Set(Phase.allCases))
    }

    @Test(arguments: Repository.validSampleFiles)
    func validSampleDecodesAsTheKindItsNameSays(_ file: URL) throws {
        let message = try sharedCodec.decode(try Repository.data(file))
        #expect(file.lastPathComponent.hasPrefix(message.kind.rawValue))
    }

    @Test(arguments: Repository.validSampleFiles)
    func sampleRoundTripsThroughTheModel(_ file: URL) throws {
        let message = try sharedCodec.decode(try Repository.data(file))
        let written = try sharedCodec.encode(message)
        #expect(try sharedCodec.decode(written) == message)
    }

    @Test func decodedValuesAreTheOnesInTheFile() throws {
        let data = try Repository.data(Repository.samples.appendingPathComponent("referral-huisarts.xml"))
        guard case .referral(let referral) = try sharedCodec.decode(data) else {
            Issue.record("not a referral")
            return
        }
        #expect(referral.patient.bsn.digits == "999990019")
        #expect(referral.patient.name.formatted == "Sanne de Vries")
        #expect(referral.envelope.created.utcOffsetMinutes == 60)
        #expect(referral.core.reasons == [.stressBurnoutProgramma, .werkverzuim])
        #expect(referral.core.phq9?.total == 11)
        #expect(referral.consent.allowed == [.huisarts, .bedrijfsarts, .werkgever])
        #expect(String(decoding: referral.attachments[0].data, as: UTF8.self) == "POH-GGZ notitie: drie gesprekken gevoerd.\n")
    }
}
