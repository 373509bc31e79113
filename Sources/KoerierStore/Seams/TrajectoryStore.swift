import Foundation

/// Trajectories, the letters their phases produced, and the clients' consent.
public protocol TrajectoryStore: Sendable {
    /// Stores an arrived referral and, if it is new, opens its trajectory and records its
    /// consent (version 1): one transaction, so an accepted referral always has both.
    func receiveReferral(
        _ message: InboundMessage, referrerRecipientID: String?, consent: ConsentGrant, transactionID: String,
        now: Date, context: AuditContext
    ) throws -> (trajectory: TrajectoryRecord, duplicate: Bool)

    func trajectory(_ id: Int64) throws -> TrajectoryRecord?
    /// Inside a unit of work, before reading what it will decide on (does this ZD-number have
    /// a trajectory yet, which amendment comes next): units that name the same key then run
    /// one after the other, so the second sees what the first wrote. SQLite has one writer,
    /// so every unit of work is already alone; PostgreSQL takes a transaction lock.
    func serialize(on key: String) throws
    /// The trajectory a transaction (a ZorgDomein number) opened first, if any.
    func trajectory(transactionID: String) throws -> TrajectoryRecord?
    /// Closes a trajectory (the referrer cancelled it), audited; closing it again changes nothing.
    func closeTrajectory(_ id: Int64, reason: String, now: Date, context: AuditContext) throws
    func trajectories(limit: Int) throws -> [TrajectoryRecord]

    func phaseLetters(of trajectory: Int64) throws -> [PhaseLetter]

    /// Records a phase's letter and moves the trajectory to that phase.
    func recordPhaseLetter(_ letter: PhaseLetter, now: Date, context: AuditContext) throws

    /// Records a new version of one trajectory's consent, audited with its parties, if the
    /// version in force is still `replacing` (`ConsentConflict` otherwise: an older document
    /// replayed after a newer one cannot undo it). The same source again changes nothing and
    /// returns the version it made.
    func recordConsent(_ grant: ConsentGrant, trajectory: Int64, replacing: Int, now: Date, context: AuditContext) throws
        -> ConsentVersion

    /// The consent in force for a trajectory, or nil before any.
    func consent(trajectory: Int64) throws -> ConsentVersion?

    /// The consent in force for every trajectory of a transaction (a letter names its
    /// transaction; a forwarded referral may have opened a second trajectory under it).
    func consents(transactionID: String) throws -> [ConsentVersion]
}
