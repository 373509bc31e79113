import Foundation
import KoerierModel
import KoerierRender

/// A return letter as a MEDVRI interchange: UNB, UNH, GGA, DET, PID, TXT…, GGO, UNT, UNZ.
public enum MEDVRIWriter {
    /// Room for the eight segments around the text within the reader's segment bound, so
    /// everything written can be read back.
    static let maximumTextLines = EDIFACTLimits.segments - 10

    /// The return letter as one EDIFACT interchange holding one MEDVRI message.
    ///
    /// No PAD segment: the model holds no patient address, and an empty PAD would only claim
    /// an address we do not have. Readers of the dialect take PAD as optional.
    public static func interchange(_ letter: ReturnLetter, addressing: MEDVRIAddressing, preparedAt: Date) throws(MEDVRIError) -> Data {
        let charset = addressing.charset
        let reference = interchangeReference(for: letter.envelope.messageID)
        // Dutch record systems show EDI times as Dutch local time; neither UNB nor DET has a zone.
        guard let zone = TimeZone(identifier: "Europe/Amsterdam") else {
            throw MEDVRIError(rule: "time-zone", message: "the Europe/Amsterdam time zone is not available")
        }
        let prepared = Timestamp(instant: preparedAt, timeZone: zone)
        let created = Timestamp(instant: letter.envelope.created.instant, timeZone: zone)
        let text = LetterText.lines(TextRenderer.render(LetterDocument(.returnLetter(letter))), charset: charset)
        guard text.count <= maximumTextLines else {
            throw MEDVRIError(rule: "text-length", message: "the letter needs more than \(maximumTextLines) TXT lines")
        }

        var message = [
            EDIFACTSegment(tag: "UNH", elements: [[reference], ["MEDVRI", "1"]]),
            try MEDVRISegments.sender(letter.envelope.sender, charset),
            MEDVRISegments.dateTime(created),
            try MEDVRISegments.patient(letter.patient, charset),
        ]
        for (offset, line) in text.enumerated() {
            message.append(EDIFACTSegment(tag: "TXT", counter: offset + 1, elements: [[line]]))
        }
        message.append(try MEDVRISegments.recipient(letter.envelope.receiver, charset))
        message.append(EDIFACTSegment(tag: "UNT", elements: [[String(message.count + 1)], [reference]]))

        let date = prepared.date
        let header = EDIFACTSegment(
            tag: "UNB",
            elements: [
                [charset.rawValue, "1"], [addressing.sender], [addressing.recipient],
                [
                    MEDVRISegments.digits(date.year % 100, 2) + MEDVRISegments.digits(date.month, 2) + MEDVRISegments.digits(date.day, 2),
                    MEDVRISegments.digits(prepared.hour, 2) + MEDVRISegments.digits(prepared.minute, 2),
                ],
                [reference],
            ])
        let trailer = EDIFACTSegment(tag: "UNZ", elements: [["1"], [reference]])
        return try EDIFACTSerializer.data([header] + message + [trailer], charset: charset)
    }

    /// The interchange (and message) reference for a letter: `K` and the 64-bit FNV-1a hash of
    /// the message id in 13 base-36 digits, 14 characters as UNB allows. Hashing the whole id
    /// keeps references apart even for time-ordered UUIDs, whose leading digits repeat; the
    /// same letter always gets the same reference, so a resend is recognisable.
    public static func interchangeReference(for id: MessageID) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.value.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        let digits = String(hash, radix: 36, uppercase: true)
        return "K" + String(repeating: "0", count: 13 - digits.count) + digits
    }
}
