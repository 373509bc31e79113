/// The life of one outbound record (one message for one recipient).
///
///     queued ──lease──▶ sending ──2xx──▶ delivered ──receipt──▶ acknowledged
///        ▲                 │  └─4xx/5xx/timeout─▶ retrying ──due──▶ (leased again)
///        └──lease expired──┘                         └─max attempts/age─▶ dead
///     blocked (never sent: no consent, no S/MIME certificate; decided when leased; ops may
///     put it back once that is mended) · cancelled (by ops). A receipt that arrives late
///     (its send timed out, or the record went dead meanwhile) still acknowledges the record:
///     the receiver has the letter.
public enum DeliveryState: String, CaseIterable, Sendable, Codable {
    case queued, sending, delivered, acknowledged, retrying, dead, blocked, cancelled

    /// States a record may move to from this one.
    public var successors: Set<DeliveryState> {
        switch self {
        case .queued: return [.sending, .blocked, .cancelled]
        case .sending: return [.delivered, .acknowledged, .retrying, .dead, .queued, .blocked]
        case .delivered: return [.acknowledged, .dead]  // a receipt arriving later may reject it
        case .retrying: return [.sending, .dead, .cancelled, .acknowledged]
        case .dead: return [.queued, .acknowledged]  // `koerier retry` puts a dead letter back
        case .blocked: return [.queued, .cancelled]  // `koerier retry` once consent or a certificate is there
        case .acknowledged, .cancelled: return []
        }
    }
}

/// The life of one inbound message.
public enum InboundState: String, CaseIterable, Sendable, Codable {
    case received, processed, rejected
}
