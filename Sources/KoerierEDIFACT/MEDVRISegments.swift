import Foundation
import KoerierModel

/// The dialect's own segments, built from the model. Every value passes through the declared
/// character set here, so the serializer never meets a character it cannot write.
enum MEDVRISegments {
    /// Structured fields (names, street, city) hold at most this many characters. The dialect
    /// gives no wider field than a TXT line, and record systems cut longer values; cutting here
    /// loses nothing, as the letter text repeats sender, recipient and patient in full.
    static let fieldWidth = 70

    /// GGA: name, department, institution, address, phone.
    static func sender(_ party: Party, _ charset: EDIFACTCharset) throws(MEDVRIError) -> EDIFACTSegment {
        EDIFACTSegment(tag: "GGA", elements: try correspondent(party, charset, role: "sender"))
    }

    /// GGO: the recipient, in the same layout as GGA.
    static func recipient(_ party: Party, _ charset: EDIFACTCharset) throws(MEDVRIError) -> EDIFACTSegment {
        EDIFACTSegment(tag: "GGO", elements: try correspondent(party, charset, role: "recipient"))
    }

    /// The name element is what a GP's system shows as the correspondent: the practitioner
    /// when the model names one, else the organisation. The model has no department and no
    /// phone number, so the department stays empty and the phone is left off: nothing invented.
    private static func correspondent(_ party: Party, _ charset: EDIFACTCharset, role: String) throws(MEDVRIError) -> [[String]] {
        let organisation = field(party.organisation, charset)
        let practitioner = field(party.practitioner ?? "", charset)
        let name = practitioner.isEmpty ? organisation : practitioner
        guard !name.isEmpty else {
            throw MEDVRIError(rule: "\(role)-name", message: "the \(role) has neither a practitioner nor an organisation")
        }
        var elements = [[name], [""], [organisation]]
        if let address = party.address {
            // street:house number::city:postal code, the order the dialect's readers take apart;
            // the postal code without its space, as Dutch record systems store it (2511AB).
            elements.append(
                truncated([
                    field(address.street, charset), field(address.houseNumber, charset), "", field(address.city, charset),
                    field(address.postalCode.filter { $0 != " " }, charset),
                ]))
        }
        return elements
    }

    /// DET: date `YY:MM:DD` and time `HH:MM`.
    static func dateTime(_ moment: Timestamp) -> EDIFACTSegment {
        EDIFACTSegment(
            tag: "DET",
            elements: [
                [digits(moment.date.year % 100, 2), digits(moment.date.month, 2), digits(moment.date.day, 2)],
                [
                    digits(moment.hour, 2), digits(moment.minute, 2),
                ],
            ])
    }

    /// PID: birth date, sex, name, the sender's own patient number, BSN.
    ///
    /// Name composite as the dialect's readers take it apart: family name : prefix : partner's
    /// family name : partner's prefix : (unused) : initials. The model holds one family name (the
    /// one in use) and a given name, not initials; the given name goes where readers look for
    /// the given part, the partner's components stay empty.
    ///
    /// BSN: implementations disagree whether it is the 4th or 5th element. We write it in the
    /// 5th, as `BSN` + 9 digits, and leave the 4th (the sender's own patient number, which
    /// Koerier does not have) empty: readers that look for the `BSN` prefix find it either way,
    /// and none mistakes it for a local patient number.
    static func patient(_ patient: Patient, _ charset: EDIFACTCharset) throws(MEDVRIError) -> EDIFACTSegment {
        let family = field(patient.name.family, charset)
        guard !family.isEmpty else { throw MEDVRIError(rule: "patient-name", message: "the patient's family name is empty") }
        let birth = patient.birthDate
        return EDIFACTSegment(
            tag: "PID",
            elements: [
                [digits(birth.year, 4), digits(birth.month, 2), digits(birth.day, 2)],
                [sexCode(patient.sex)],
                truncated([family, field(patient.name.prefix ?? "", charset), "", "", "", field(patient.name.given, charset)]),
                [""],
                ["BSN" + patient.bsn.digits],
            ])
    }

    /// M, V (vrouw) and O (onbekend), the codes Dutch record systems use. The dialect has no
    /// code for "other", so it is written as O too.
    private static func sexCode(_ sex: Sex) -> String {
        switch sex {
        case .male: return "M"
        case .female: return "V"
        case .other, .unknown: return "O"
        }
    }

    static func field(_ text: String, _ charset: EDIFACTCharset) -> String {
        String(charset.transliterate(text).trimmingCharacters(in: .whitespaces).prefix(fieldWidth))
    }

    /// Trailing empty components are left off (ISO 9735 truncation), keeping at least one.
    private static func truncated(_ components: [String]) -> [String] {
        var result = components
        while result.count > 1, result.last?.isEmpty == true { result.removeLast() }
        return result
    }

    static func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
