import Foundation
import KoerierSecurity

/// The channel for each directory entry, made once per entry and kept: connections,
/// certificates and keys live as long as the channel (a reload makes a new set).
public final class ChannelSet: @unchecked Sendable {
    public let https: HTTPSTransport
    public let smtp: SMTPTransport
    let receipts: ReceiptCheck
    public let mailSigner: SMIMESigner
    let mailFrom: String
    private let lock = NSLock()
    private var channels: [String: any OutboundChannel] = [:]

    public init(https: HTTPSTransport, smtp: SMTPTransport, receipts: ReceiptCheck, mailSigner: SMIMESigner, mailFrom: String) {
        self.https = https
        self.smtp = smtp
        self.receipts = receipts
        self.mailSigner = mailSigner
        self.mailFrom = mailFrom
    }

    public func channel(for recipient: Recipient) -> any OutboundChannel {
        lock.withLock {
            if let kept = channels[recipient.id] { return kept }
            let made = make(for: recipient)
            channels[recipient.id] = made
            return made
        }
    }

    private func make(for recipient: Recipient) -> any OutboundChannel {
        switch recipient.transport {
        case .https(let target):
            return KoerierHTTPSChannel(recipient: recipient, target: target, transport: https, receipts: receipts)
        case .smtp(let target):
            let certificate = target.certificate.flatMap { FileManager.default.contents(atPath: $0.path) }.flatMap {
                Certificate.loadPEM($0).first
            }
            return SMIMEMailChannel(
                recipientID: recipient.id, target: target, transport: smtp, signer: mailSigner, mailFrom: mailFrom,
                recipientCertificate: certificate)
        }
    }
}
