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
    /// Set once the referrer cancelled it: no phase letter is made after that.
    public var closedAt: Date? = nil
    public var closedReason: String? = nil
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
