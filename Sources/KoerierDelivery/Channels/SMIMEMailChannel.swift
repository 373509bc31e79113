import Foundation
import KoerierSecurity

/// The letter as an S/MIME (signed, then encrypted) attachment, mailed over SMTP with
/// STARTTLS required; the receipt arrives later by its own route (`ReceiptIntake`). A MEDVRI
/// interchange goes the same way to a GP's EDI mailbox (no Koerier receipt follows).
struct SMIMEMailChannel: OutboundChannel {
    let recipientID: String
    let target: SMTPTarget
    let transport: SMTPTransport
    let signer: SMIMESigner
    let mailFrom: String
    /// Read once, when the lane's channel is made (and again after a reload).
    let recipientCertificate: Certificate?
    /// The certificates that followed it in its file: its intermediate CAs.
    let recipientIntermediates: [Certificate]
    /// The anchors it must chain to, or why they could not be read.
    let smimeTrust: Result<TrustStore, DeliveryFailure>
    /// Koerier XML, or a MEDVRI interchange for an EDI mailbox.
    let attachmentType: MailAttachmentType

    func prepare(_ letter: OutgoingMessage) throws(ChannelProblem) -> Data {
        guard let certificate = recipientCertificate else {
            throw .blocked("no-smime-certificate: \(recipientID) has no readable S/MIME certificate; nothing is mailed unencrypted")
        }
        // Checked on every attempt (validity runs out; the chain verdict is cached).
        switch smimeTrust {
        case .failure(let problem):
            throw .blocked("smime-anchors-unreadable: \(recipientID): \(problem)")
        case .success(let trust):
            do {
                try trust.verifyEncryptionCertificate(certificate, intermediates: recipientIntermediates)
            } catch {
                throw .blocked("smime-certificate-invalid: \(recipientID): \(error.message); nothing is mailed")
            }
        }
        do {
            return try MailComposer.mail(
                from: mailFrom, to: target.mailbox, messageID: letter.messageID.value, kind: letter.kind.rawValue,
                signer: signer, recipientCertificate: certificate, attachment: letter.bytes, attachmentType: attachmentType)
        } catch {
            throw .failed("S/MIME failed: \(error)")
        }
    }

    func send(_ wire: Data, for letter: OutgoingMessage) -> TransportOutcome { transport.send(wire, to: target) }

    func interpret(_ outcome: TransportOutcome, for letter: OutgoingMessage) -> ChannelVerdict {
        switch outcome {
        case .noAnswer(let reason): return .retryLater(reason: reason, after: nil)
        case .answered(let status, let body, _, _):
            let detail = String(decoding: body, as: UTF8.self)
            switch status {
            case 200..<300: return .delivered(note: nil)
            case 500..<600: return .refused(reason: detail)
            default: return .retryLater(reason: detail.isEmpty ? "SMTP \(status)" : detail, after: nil)
            }
        }
    }
}
