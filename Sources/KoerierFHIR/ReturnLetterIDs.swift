import KoerierModel

/// The ids of a return letter's resources, derived from the letter's message id: writing
/// the same letter twice gives the same Bundle, byte for byte.
struct ReturnLetterIDs {
    let letter: String

    init(_ letter: ReturnLetter) { self.letter = letter.envelope.messageID.value }

    func id(_ role: String) -> String { FHIRIdentifiers.uuidString("koerier-return-letter|\(letter)|\(role)") }

    var composition: String { id("composition") }
    var patient: String { id("patient") }
    var practitionerRole: String { id("practitioner-role") }
    var practitioner: String { id("practitioner") }
    var organisation: String { id("organisation") }

    static func fullUrl(_ id: String) -> String { "urn:uuid:" + id }
    static func reference(_ id: String) -> JSONValue { ["reference": .string(fullUrl(id))] }
    static func entry(_ id: String, _ resource: JSONValue) -> JSONValue {
        ["fullUrl": .string(fullUrl(id)), "resource": resource]
    }
}
