import Foundation
import KoerierEDIFACT
import KoerierFHIR
import KoerierModel

/// Renders what a recipient's adapter decided in the format its record system reads. Runs
/// once, when the letter is queued, so every attempt sends the same bytes; Koerier XML is
/// left as signed. MEDVRI and FHIR carry return letters only.
public struct LetterFormatter: Sendable {
    /// This centre's own numeric EDI address (`delivery.edi_address`): the UNB sender.
    let ediSender: String?

    public init(ediSender: String?) { self.ediSender = ediSender }

    /// Why a copy cannot be written in its recipient's format; the reason starts with a short code.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// Whether bytes rendered at enqueue are still in the format the entry takes now: a
    /// directory change while a letter waits must not send XML as EDIFACT, or the reverse.
    public static func carries(_ bytes: Data, as format: LetterFormat) -> Bool {
        let first = bytes.drop { $0 == 0xEF || $0 == 0xBB || $0 == 0xBF || $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        switch format {
        case .koerierXML: return first.first == UInt8(ascii: "<")
        case .medvri: return first.starts(with: Data("UNA".utf8)) || first.starts(with: Data("UNB".utf8))
        case .fhirSTU3: return first.first == UInt8(ascii: "{")
        }
    }

    /// `now` stamps the interchange (UNB) or Bundle (meta.lastUpdated): pass the record's
    /// creation time when rendering again at an attempt, so every attempt has the same bytes.
    public func render(_ copy: OutgoingMessage, for recipient: Recipient, now: Date = Date()) throws(Refusal) -> OutgoingMessage {
        if case .koerierXML = recipient.format { return copy }
        guard case .returnLetter(let letter)? = copy.content else {
            throw Refusal(
                reason:
                    "format-unsupported: \(recipient.format.name) to \(recipient.id) carries return letters, not a \(copy.kind.rawValue)")
        }
        switch recipient.format {
        case .koerierXML:
            return copy
        case .medvri(let ediAddress, let charset):
            guard let ediSender else {
                throw Refusal(reason: "edi-address-missing: 'delivery.edi_address' is needed to write MEDVRI for \(recipient.id)")
            }
            do {
                let addressing = try MEDVRIAddressing(sender: ediSender, recipient: ediAddress, charset: charset)
                let bytes = try MEDVRIWriter.interchange(letter, addressing: addressing, preparedAt: now)
                return OutgoingMessage(messageID: copy.messageID, kind: copy.kind, bytes: bytes, content: copy.content)
            } catch {
                throw Refusal(reason: "medvri-failed: \(recipient.id): \(error)")
            }
        case .fhirSTU3:
            do {
                let bytes = try FHIRReturnLetter.bundle(letter, preparedAt: now)
                return OutgoingMessage(messageID: copy.messageID, kind: copy.kind, bytes: bytes, content: copy.content)
            } catch {
                throw Refusal(reason: "fhir-failed: \(recipient.id): \(error.problems.map(\.description).joined(separator: "; "))")
            }
        }
    }
}
