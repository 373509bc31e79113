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
            if case .fhirSTU3 = recipient.format {
                return FHIRDocumentChannel(
                    recipientID: recipient.id, target: FHIRDocumentChannel.bundleEndpoint(of: target), transport: https)
            }
            return KoerierHTTPSChannel(recipient: recipient, target: target, transport: https, receipts: receipts)
        case .folder(let folder):
            return FolderDropChannel(recipientID: recipient.id, folder: folder)
        case .smtp(let target):
            // The recipient's certificate first, then any intermediates it came with.
            let bundle = target.certificate.flatMap { FileManager.default.contents(atPath: $0.path) }.map(Certificate.loadPEM) ?? []
            let trust: Result<TrustStore, DeliveryFailure>
            if let anchors = target.smimeAnchors {
                do {
                    trust = .success(try TrustStore(anchorsFile: anchors))
                } catch {
                    trust = .failure(DeliveryFailure("\(error)"))
                }
            } else {
                // No `smime_anchors`: the gateway's own trust anchors and CRLs.
                trust = .success(receipts.verifier.trust)
            }
            return SMIMEMailChannel(
                recipientID: recipient.id, target: target, transport: smtp, signer: mailSigner, mailFrom: mailFrom,
                recipientCertificate: bundle.first, recipientIntermediates: Array(bundle.dropFirst()), smimeTrust: trust,
                attachmentType: recipient.format == .koerierXML ? .xml : .edifact)
        }
    }
}
