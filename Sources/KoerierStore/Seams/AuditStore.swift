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

    /// The hash recorded for entry `sequence` (the genesis hash for 0), or nil if there is none.
    func auditHash(at sequence: Int64) throws -> String?
}
