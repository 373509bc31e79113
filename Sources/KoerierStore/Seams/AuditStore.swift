import Foundation

/// The NEN 7513 audit log: a hash chain every change of the other stores writes into.
public protocol AuditStore: Sendable {
    /// An audit entry on its own (e.g. a message refused at intake).
    func recordAudit(_ event: AuditEvent, now: Date) throws

    func auditEntries(limit: Int) throws -> [AuditEntry]

    /// The first break in the audit chain, or nil when it is whole.
    func verifyAudit() throws -> String?
}
