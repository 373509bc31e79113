import Foundation
import KoerierEDIFACT
import KoerierModel

// libFuzzer target, two ways round: arbitrary bytes through the EDIFACT reader and the
// MEDVRI check (never a crash, never a hang); and arbitrary text as a letter's SOEP and
// names through the writer, whose interchange must then pass our own check and read back.
let base = FuzzLetter.base

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let data = Data(bytes: bytes, count: size)
    if let segments = try? EDIFACTReader.segments(data) { _ = segments.count }
    _ = MEDVRICheck.problems(in: data)

    let text = String(decoding: data, as: UTF8.self)
    var letter = base
    let parts = text.split(separator: "\u{1}", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
    letter.soep.subjective.text = parts[0]
    if parts.count > 1 { letter.soep.plan = parts[1] }
    if parts.count > 2 { letter.patient.name.family = parts[2] }
    if parts.count > 3 { letter.envelope.sender.organisation = parts[3] }
    for charset in EDIFACTCharset.allCases {
        guard let addressing = try? MEDVRIAddressing(sender: "500045600", recipient: "500067890", charset: charset),
            let interchange = try? MEDVRIWriter.interchange(
                letter, addressing: addressing, preparedAt: Date(timeIntervalSince1970: 1_790_000_000))
        else { continue }
        let problems = MEDVRICheck.problems(in: interchange)
        if !problems.isEmpty { fatalError("the writer made an interchange its own check refuses: \(problems)") }
        guard (try? EDIFACTReader.segments(interchange)) != nil else { fatalError("the reader cannot read what the writer made") }
    }
    return 0
}

/// A valid fase-2 letter the fuzzer's text is put into.
enum FuzzLetter {
    static var base: ReturnLetter {
        // Built from literals that pass their own checks; a failure here is a broken harness.
        guard let bsn = try? BSN("999990019"), let created = try? Timestamp(parsing: "2026-06-08T11:15:00+02:00"),
            let start = try? CalendarDate(parsing: "2026-04-13"), let end = try? CalendarDate(parsing: "2026-06-05"),
            let born = try? CalendarDate(parsing: "1984-03-21"), let transaction = try? TransactionID("ZD20260302007")
        else { fatalError("harness literals") }
        let centre = Party(type: .centrum, organisation: "Stress en Burn-out Centrum Haaglanden", practitioner: "L. Visser")
        let gp = Party(type: .huisarts, organisation: "Huisartsenpraktijk De Linde", practitioner: "dr. A. Jansen")
        return ReturnLetter(
            envelope: Envelope(
                messageID: MessageID(UUID()), transactionID: transaction, created: created, documentKind: .terugkoppeling,
                sender: centre, receiver: gp),
            patient: Patient(bsn: bsn, name: PersonName(given: "Sanne", prefix: "de", family: "Vries"), birthDate: born, sex: .female),
            phase: .fase2, period: Period(start: start, end: end),
            soep: Soep(subjective: SoepLine(text: "S"), objective: "O", evaluation: SoepLine(text: "E"), plan: "P"),
            adviceToReferrer: "Advies.", nextStep: "Fase 3.")
    }
}
