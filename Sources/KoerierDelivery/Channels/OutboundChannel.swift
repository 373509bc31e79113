import Foundation
import KoerierModel
import KoerierStore

/// One way of carrying a letter to a partner: the format on the wire, the transport, and
/// how the partner's answer is read. Chosen per directory entry; the adapter (what this
/// recipient may see) has decided the letter before a channel sees it.
public protocol OutboundChannel: Sendable {
    /// The bytes that go on the wire for this letter (the letter itself, or a mail around it).
    func prepare(_ letter: OutgoingMessage) throws(ChannelProblem) -> Data
    /// One transfer; blocking (runs on the delivery executor).
    func send(_ wire: Data, for letter: OutgoingMessage) -> TransportOutcome
    /// What the partner's answer means for the record.
    func interpret(_ outcome: TransportOutcome, for letter: OutgoingMessage) -> ChannelVerdict
}

/// Why a letter could not be made ready to leave.
public enum ChannelProblem: Error, Sendable {
    /// Never sent until ops mend it (a missing S/MIME certificate); reason starts with a short code.
    case blocked(String)
    /// Preparing failed for good (e.g. S/MIME could not be built).
    case failed(String)
}

/// A partner's answer, as the record's next state needs it.
public enum ChannelVerdict: Sendable {
    /// A valid receipt for exactly these bytes came back, accepting them.
    case acknowledged(receipt: InboundMessage)
    /// A valid receipt came back refusing the letter: final.
    case rejected(reason: String, receipt: InboundMessage)
    /// Taken; any proof comes later (mail), or the answer carried no usable receipt.
    case delivered(note: String?)
    /// Not now: no answer, or the partner asked for later (HTTP 408/425/429/5xx, SMTP 4xx),
    /// with its Retry-After when it gave one.
    case retryLater(reason: String, after: TimeInterval?)
    /// Refused for good (HTTP 4xx, SMTP 5xx): another try would not help.
    case refused(reason: String)

    /// The partner answered, so it is up (the lane's circuit counts only silence and trouble).
    var partnerAnswered: Bool {
        switch self {
        case .retryLater: return false
        default: return true
        }
    }
}
