import Foundation

/// The NEN 7513 audit log: a hash chain every change of the other stores writes into.
public protocol AuditStore: Sendable {
    /// An audit entry on its own (e.g. a message refused at intake).
    func recordAudit(_ event: AuditEvent, now: Date) throws

    func auditEntries(limit: Int) throws -> [AuditEntry]

    /// The first break in the audit chain, or nil when it is whole.
    func verifyAudit() throws -> String?

    /// The newest entry's sequence and hash (0 and the genesis hash for an empty log).
    func auditHead() throws -> (sequence: Int64, hash: String)

    /// The hash recorded for entry `sequence` (the genesis hash for 0, the anchor's for the
    /// anchor), or nil if there is none (never written, or removed by retention).
    func auditHash(at sequence: Int64) throws -> String?
    /// The entry the log starts after: the genesis, or the last entry retention removed.
    func auditAnchor() throws -> AuditAnchor
    /// Retention: the log starts after entry `sequence` from now on, which must carry `hash`
    /// (a signed checkpoint's), and the entries up to it are deleted in batches. The move is
    /// an audit entry of its own. Returns how many entries were deleted.
    func trimAudit(through sequence: Int64, hash: String, now: Date, context: AuditContext) throws -> Int
}
