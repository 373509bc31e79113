import Crypto
import Foundation
import KoerierModel

/// Builds the participation notice an employer or social team may receive from a return
/// letter. Only the participant's name, a participation status and the period as one
/// programme block go across; the phase name, SOEP text, ICPC codes, scores, goals, the
/// BSN and birth date stay behind.
enum ParticipationDerivation {
    static func notice(from letter: ReturnLetter, to recipient: Recipient) -> ParticipationNotice {
        let sender = letter.envelope.sender
        return ParticipationNotice(
            envelope: Envelope(
                messageID: DerivedMessageID.make(from: letter.envelope.messageID, recipient: recipient.id, purpose: "participation notice"),
                transactionID: letter.envelope.transactionID, created: letter.envelope.created,
                documentKind: .deelnamebericht,
                sender: Party(
                    type: sender.type, organisation: sender.organisation, agb: sender.agb, ura: sender.ura,
                    address: sender.address),
                receiver: recipient.party),
            participant: Participant(name: letter.patient.name),
            status: letter.phase == .afsluiting ? .afgerond : .actief,
            // One block: the period this letter reports on (which phase it was is not the employer's business).
            programme: [ProgrammeBlock(sequence: 1, start: letter.period.start, end: letter.period.end)],
            // The return letter carries no session counts; the notice says so as 0 of 0.
            attendance: Attendance(planned: 0, attended: 0))
    }
}

/// An id for a message Koerier derives from another for one recipient. The same source and
/// recipient always give the same id, so a retry after a crash cannot reach the recipient
/// as a second, different message.
public enum DerivedMessageID {
    public static func make(from source: MessageID, recipient: String, purpose: String) -> MessageID {
        var bytes = Array(SHA256.hash(data: Data("koerier \(purpose) v1|\(source.value)|\(recipient)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0f) | 0x50  // version 5 style (name-based)
        bytes[8] = (bytes[8] & 0x3f) | 0x80  // RFC 4122 variant
        let uuid = UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
        return MessageID(uuid)
    }
}
