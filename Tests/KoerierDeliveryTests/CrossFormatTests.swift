import Foundation
import KoerierEDIFACT
import KoerierFHIR
import KoerierModel
import KoerierTestSupport
import KoerierXML
import Testing

/// One letter, three renderings: the Koerier XML sample, its MEDVRI and its FHIR forms
/// (both committed as samples and made again here, so they cannot drift) carry the same
/// content, each read back by its own reader.
@Suite(.ownThreads) struct CrossFormatTests {
    static let preparedAt = Fixtures.timestamp("2026-06-08T09:20:00Z").instant
    static let medvriSample = Repository.samples.appendingPathComponent("return-letter-fase-2.medvri.edi")
    static let fhirSample = Repository.samples.appendingPathComponent("fhir/fase-2-letter.fhir.json")

    static func letter() throws -> ReturnLetter {
        let codec = try MessageCodec(schemaDirectory: Repository.schemas)
        guard
            case .returnLetter(let letter) = try codec.decode(
                Data(contentsOf: Repository.samples.appendingPathComponent("return-letter-fase-2.xml")))
        else { throw FormatMismatch("the fase-2 sample is not a return letter") }
        return letter
    }

    struct FormatMismatch: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// The committed sample, or (with KOERIER_WRITE_SAMPLES=1, after a deliberate change) written anew.
    static func committed(_ made: Data, at file: URL) throws -> Data {
        if ProcessInfo.processInfo.environment["KOERIER_WRITE_SAMPLES"] == "1" { try made.write(to: file) }
        return try Data(contentsOf: file)
    }

    /// Every text and code of the letter a GP must find in any rendering of it.
    static func fragments(_ letter: ReturnLetter) -> [String] {
        let soep = letter.soep
        var texts = [soep.subjective.text, soep.objective, soep.evaluation.text, soep.plan, letter.adviceToReferrer, letter.nextStep]
        texts += (soep.subjective.icpc + soep.evaluation.icpc).flatMap { [$0.code, $0.label] }
        texts += letter.goals.flatMap { [$0.description, $0.measure] }
        return texts
    }

    /// The scores as (what, value), for the FHIR Observations and the MEDVRI text alike.
    static func scores(_ letter: ReturnLetter) throws -> [(String, Int)] {
        let m = letter.measurements
        let fourDKL = try #require(m.fourDKL)
        let health = try #require(m.positiveHealth)
        return [
            ("4dkl-distress", fourDKL.distress), ("4dkl-depressie", fourDKL.depressie), ("4dkl-angst", fourDKL.angst),
            ("4dkl-somatisatie", fourDKL.somatisatie), ("44261-6", try #require(m.phq9).total),
            ("lichaamsfuncties", health.lichaamsfuncties), ("mentaal-welbevinden", health.mentaalWelbevinden),
            ("zingeving", health.zingeving), ("kwaliteit-van-leven", health.kwaliteitVanLeven), ("meedoen", health.meedoen),
            ("dagelijks-functioneren", health.dagelijksFunctioneren),
        ]
    }

    @Test func theMEDVRIRenderingIsTheCommittedSampleAndCarriesTheWholeLetter() throws {
        let letter = try Self.letter()
        let addressing = try MEDVRIAddressing(sender: "500045600", recipient: "500067890", charset: .unoc)
        let made = try MEDVRIWriter.interchange(letter, addressing: addressing, preparedAt: Self.preparedAt)
        #expect(made == (try Self.committed(made, at: Self.medvriSample)), "Samples/return-letter-fase-2.medvri.edi is stale")
        #expect(MEDVRICheck.problems(in: made).isEmpty)
        let segments = try EDIFACTReader.segments(made)
        // Wrapped lines keep their breaking space, so joined they give the paragraphs back.
        let text = segments.filter { $0.tag == "TXT" }.map { $0.elements.first?.first ?? "" }.joined()
        for fragment in Self.fragments(letter) { #expect(text.contains(fragment), "MEDVRI lacks '\(fragment)'") }
        let fourDKL = try #require(letter.measurements.fourDKL)
        let phq9 = try #require(letter.measurements.phq9)
        #expect(text.contains("distress \(fourDKL.distress)/32") && text.contains("\(phq9.total)/27"))
        let pid = try #require(segments.first { $0.tag == "PID" })
        #expect(pid.elements.flatMap { $0 }.contains("BSN" + letter.patient.bsn.digits))
    }

    @Test func theFHIRRenderingIsTheCommittedSampleAndCarriesTheWholeLetter() throws {
        let letter = try Self.letter()
        let made = try FHIRReturnLetter.bundle(letter, preparedAt: Self.preparedAt)
        #expect(made == (try Self.committed(made, at: Self.fhirSample)), "Samples/fhir/fase-2-letter.fhir.json is stale")
        let bundle = try #require(try JSONSerialization.jsonObject(with: made) as? [String: Any])
        #expect(bundle["id"] as? String == letter.envelope.messageID.value)
        var strings: [String] = []
        var values: [String: Int] = [:]
        func walk(_ node: Any) {
            if let object = node as? [String: Any] {
                let codes = ((object["code"] as? [String: Any])?["coding"] as? [[String: Any]])?.compactMap { $0["code"] as? String } ?? []
                if let quantity = object["valueQuantity"] as? [String: Any], let value = quantity["value"] as? Int {
                    for code in codes { values[code] = value }
                }
                object.values.forEach(walk)
            } else if let array = node as? [Any] {
                array.forEach(walk)
            } else if let text = node as? String {
                strings.append(text)
            }
        }
        walk(bundle)
        let text = strings.joined(separator: "\n")
        for fragment in Self.fragments(letter) { #expect(text.contains(fragment), "FHIR lacks '\(fragment)'") }
        for (code, score) in try Self.scores(letter) {
            #expect(values[code] == score, "FHIR \(code): \(values[code] ?? -1), letter \(score)")
        }
        #expect(text.contains(letter.patient.bsn.digits))
    }
}
