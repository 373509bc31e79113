import Foundation
import KoerierModel

/// A client's path through the programme, opened by an accepted referral.
public struct TrajectoryRecord: Sendable, Equatable {
    public let id: Int64
    /// The referral that opened it (its payload is in the inbound queue).
    public let referralMessageID: String
    public let transactionID: String
    public let clientReference: String
    /// The referrer's entry in the recipient directory, if it has one.
    public let referrerRecipientID: String?
    public let currentPhase: String?
    public let openedAt: Date
    public let updatedAt: Date
}

/// A return letter a phase produced (amendment 0 is the first; each correction adds one).
public struct PhaseLetter: Sendable, Equatable {
    public let trajectoryID: Int64
    public let phase: String
    public let amendment: Int
    public let messageID: String
    public let createdAt: Date

    public init(trajectoryID: Int64, phase: String, amendment: Int, messageID: String, createdAt: Date) {
        self.trajectoryID = trajectoryID
        self.phase = phase
        self.amendment = amendment
        self.messageID = messageID
        self.createdAt = createdAt
    }
}

/// Trajectories, the letters their phases produced, and the receipts this gateway issued
/// (a duplicate arrival gets the original receipt back).
public protocol TrajectoryStore: Sendable {
    /// Stores an arrived message and, if it is new, opens its trajectory and records its
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

    /// The decrypted payload of an inbound message; an audited read.
    func inboundPayload(_ messageID: String, now: Date, context: AuditContext) throws -> Data

    func issuedReceipt(for messageID: String) throws -> Data?
    func recordIssuedReceipt(_ receipt: Data, for messageID: String, now: Date) throws
}
