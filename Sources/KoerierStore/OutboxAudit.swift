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
