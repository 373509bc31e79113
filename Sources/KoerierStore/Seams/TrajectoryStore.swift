import Foundation

/// Trajectories, the letters their phases produced, and the clients' consent.
public protocol TrajectoryStore: Sendable {
    /// Stores an arrived referral and, if it is new, opens its trajectory and records its
    /// consent: one transaction, so an accepted referral always has both.
    func receiveReferral(
        _ message: InboundMessage, referrerRecipientID: String?, consent: ConsentRecord, transactionID: String,
        now: Date, context: AuditContext
    ) throws -> (trajectory: TrajectoryRecord, duplicate: Bool)

    func trajectory(_ id: Int64) throws -> TrajectoryRecord?
    func trajectories(limit: Int) throws -> [TrajectoryRecord]

    func phaseLetters(of trajectory: Int64) throws -> [PhaseLetter]

    /// Records a phase's letter and moves the trajectory to that phase.
    func recordPhaseLetter(_ letter: PhaseLetter, now: Date, context: AuditContext) throws

    /// Records (or replaces) a client's consent: which recipient types may hear about them.
    func recordConsent(_ consent: ConsentRecord, now: Date, context: AuditContext) throws

    func consent(clientReference: String) throws -> ConsentRecord?
}
