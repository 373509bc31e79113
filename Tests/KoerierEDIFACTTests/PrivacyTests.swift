import Foundation
import KoerierEDIFACT
import KoerierModel
import KoerierTestSupport
import Testing

/// Errors and problems reach logs: they name rules, tags and segments, never patient data.
@Suite(.ownThreads) struct PrivacyTests {
    static let patient = Patient(
        bsn: try! BSN("999990019"), name: PersonName(given: "Marijke", prefix: "van der", family: "Zwaluw"),
        birthDate: Fixtures.date("1984-03-21"), sex: .female)

    static let secrets = ["Marijke", "van der", "Zwaluw", "999990019", "1984", "03-21", "21-03", "84:03:21"]

    static func leaks(_ text: String) -> [String] {
        secrets.filter { text.localizedCaseInsensitiveContains($0) }
    }

    static func letter(_ change: (inout ReturnLetter) -> Void) -> ReturnLetter {
        var letter = Letters.fase2()
        letter.patient = patient
        change(&letter)
        return letter
    }

    @Test func anInvalidAddressNamesTheRuleOnly() {
        for (sender, recipient) in [("12a", "500002222"), ("500001111", ""), ("1984032199999", String(repeating: "1", count: 36))] {
            do {
                _ = try MEDVRIAddressing(sender: sender, recipient: recipient, charset: .unoa)
                Issue.record("\(sender)/\(recipient) was accepted")
            } catch {
                #expect(error.rule == "edi-address")
                #expect(!error.description.contains(sender) && Self.leaks(error.description).isEmpty)
            }
        }
    }

    static let invalidLetters: [(String, String, ReturnLetter)] = [
        ("sender-name", "no sender name", letter { $0.envelope.sender = Party(type: .centrum, organisation: " ") }),
        ("recipient-name", "no recipient name", letter { $0.envelope.receiver = Party(type: .huisarts, organisation: "") }),
        ("patient-name", "no family name", letter { $0.patient.name.family = "  " }),
        (
            "text-length", "10,000 lines",
            letter { $0.soep.plan = "Marijke van der Zwaluw 999990019\n" + String(repeating: "r\n", count: 10_000) }
        ),
    ]

    @Test(arguments: invalidLetters.indices)
    func anInvalidLetterNamesTheRuleOnly(_ index: Int) {
        let (rule, name, letter) = Self.invalidLetters[index]
        do {
            _ = try MEDVRIWriter.interchange(letter, addressing: Letters.addressing(.unoc), preparedAt: Letters.preparedAt)
            Issue.record("\(name) was written")
        } catch {
            #expect(error.rule == rule, "\(name)")
            #expect(Self.leaks(error.description) == [], "\(name): \(error)")
        }
    }

    /// Every problem the check finds in a broken copy of a letter about this patient.
    @Test(arguments: Breakage.allCases)
    func problemsNameNoPatientData(_ breakage: Breakage) throws {
        let data = try MEDVRIWriter.interchange(
            Self.letter { _ in }, addressing: Letters.addressing(.unoa), preparedAt: Letters.preparedAt)
        #expect(!Self.leaks(String(decoding: data, as: UTF8.self)).isEmpty, "the letter itself carries the data")
        var lines = Lines(data)
        _ = try breakage.apply(to: &lines)
        let problems = MEDVRICheck.problems(in: lines.data)
        #expect(!problems.isEmpty)
        for problem in problems { #expect(Self.leaks(problem.description) == [], "\(problem)") }
    }

    @Test func readerErrorsNameNoPatientData() throws {
        var lines = Lines(try Letters.write(Self.letter { _ in }, .unoa))
        let pid = try #require(lines.index(of: "PID+"))
        lines.lines[pid] += Array("ZWALUW MARIJKE".utf8)  // data after the terminator: a tag of 14 characters
        do {
            _ = try EDIFACTReader.segments(lines.data)
            Issue.record("read")
        } catch {
            #expect(Self.leaks(error.description) == [], "\(error)")
        }
    }
}
