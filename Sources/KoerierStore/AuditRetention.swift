import Foundation

/// What both stores share when old audit entries leave: the event that records it, the
/// refusal when the log no longer matches the checkpoint, and the size of a delete batch
/// (short transactions: writers are never held up for long, and the space is reused).
enum AuditRetention {
    static let batch = 5_000

    static func event(through sequence: Int64, _ context: AuditContext) -> AuditEvent {
        AuditEvent(
            kind: .trim, actor: context.actor, onBehalfOf: context.onBehalfOf, accessPoint: context.accessPoint,
            outcome: outcome(through: sequence))
    }

    /// The trim entry's outcome, which verification looks for after an anchor.
    static func outcome(through sequence: Int64) -> String { "entries through \(sequence) removed" }

    static func mismatch(_ sequence: Int64) -> StoreError {
        StoreError("entry \(sequence) does not carry the checkpoint's hash: the log was rewritten; nothing was removed")
    }
}
