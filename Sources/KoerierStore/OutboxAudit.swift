import Foundation

/// The audit entries of outbox changes, the same on every backend.
enum OutboxAudit {
    static func event(_ kind: AuditEvent.Kind, _ record: OutboundRecord, _ context: AuditContext, outcome: String = "ok") -> AuditEvent {
        AuditEvent(
            kind: kind, actor: context.actor, onBehalfOf: context.onBehalfOf, clientReference: record.clientReference,
            messageID: record.messageID, accessPoint: context.accessPoint, outcome: outcome)
    }

    static func kind(from: DeliveryState, to: DeliveryState) -> AuditEvent.Kind {
        switch to {
        case .delivered: return .deliver
        case .acknowledged: return .acknowledge
        case .retrying: return .retry
        case .dead: return .dead
        case .blocked: return .block
        case .cancelled: return .cancel
        case .sending: return .send
        case .queued: return from == .dead || from == .blocked ? .retry : .send
        }
    }
}

/// The state machine's rules for one move, the same on every backend.
enum TransitionRule {
    /// Throws the refusal when `current` may not move by `transition` for the holder of
    /// `lease` (nil: an ops or receipt move, allowed only while nobody holds a lease).
    static func check(_ current: OutboundRecord, _ transition: Transition, lease: String?) throws {
        let id = current.id
        if current.state == .sending, lease == nil {
            throw StoreError("record \(id) is being sent (leased by \(current.leaseOwner ?? "?")); try again once the attempt ends")
        }
        if let lease, current.state != .sending || current.leaseToken != lease { throw LeaseLost(recordID: id) }
        guard current.state.successors.contains(transition.to) else {
            throw StoreError("record \(id) is \(current.state.rawValue); it cannot become \(transition.to.rawValue)")
        }
    }

    /// When the record is due next: the transition's time, or now for one put back by ops
    /// (dead → queued); nil keeps what it was.
    static func nextAttempt(_ transition: Transition, now time: Double) -> Double? {
        transition.nextAttemptAt?.timeIntervalSince1970 ?? (transition.to == .queued ? time : nil)
    }
}
