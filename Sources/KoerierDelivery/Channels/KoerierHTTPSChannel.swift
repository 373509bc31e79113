import Foundation
import KoerierModel
import KoerierStore

/// Koerier XML over HTTPS with mutual TLS; the answer carries a signed Koerier receipt.
struct KoerierHTTPSChannel: OutboundChannel {
    let recipient: Recipient
    var recipientID: String { recipient.id }
    let target: HTTPSTarget
    let transport: HTTPSTransport
    let receipts: ReceiptCheck

    /// Statuses that mean "not now" (RFC 9110, RFC 8470, RFC 6585): retried, not dead.
    static let retryableStatuses: Set<Int> = [408, 425, 429]

    func prepare(_ letter: OutgoingMessage) throws(ChannelProblem) -> Data { letter.bytes }

    func send(_ wire: Data, for letter: OutgoingMessage) -> TransportOutcome { transport.post(wire, to: target) }

    func interpret(_ outcome: TransportOutcome, for letter: OutgoingMessage) -> ChannelVerdict {
        guard case .answered(let status, let body, let retryAfter, _) = outcome else {
            if case .noAnswer(let reason) = outcome { return .retryLater(reason: reason, after: nil) }
            return .retryLater(reason: "no answer", after: nil)
        }
        let summary = "HTTP \(status): \(HTTPSTransport.summary(body))"
        switch status {
        case 200..<300: return readReceipt(body, for: letter)
        case _ where Self.retryableStatuses.contains(status), 500..<600: return .retryLater(reason: summary, after: retryAfter)
        default: return .refused(reason: summary)
        }
    }

    private func readReceipt(_ body: Data, for letter: OutgoingMessage) -> ChannelVerdict {
        do {
            let checked = try receipts.check(body)
            try receipts.require(checked, answers: letter.bytes, messageID: letter.messageID)
            try receipts.require(checked, from: recipient)
            let receipt = InboundMessage(
                messageID: checked.receipt.envelope.messageID, kind: .receipt,
                sender: checked.signer.organisation ?? checked.signer.subject, payload: body)
            if case .rejected(let code, let text) = checked.receipt.outcome {
                return .rejected(reason: "rejected by \(recipientID): \(code.rawValue): \(text)", receipt: receipt)
            }
            return .acknowledged(receipt: receipt)
        } catch let uncheckable as ReceiptUncheckable {
            // Sent again later, the same bytes get the receiver's kept receipt, checked then.
            return .retryLater(reason: "\(uncheckable)", after: nil)
        } catch {
            return .delivered(note: "accepted without a valid receipt: \(error)")
        }
    }
}
