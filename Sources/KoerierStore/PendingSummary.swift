import Foundation

/// What waits too long: the oldest record still to be sent, and the urgent records pending
/// since before the alarm's moment, all counted and the oldest of them listed.
public struct PendingSummary: Sendable {
    /// How many late urgent records are listed at most.
    public static let listedLimit = 100

    public let oldestPending: Date?
    /// The oldest late urgent records, at most `listedLimit`.
    public let lateUrgent: [OutboundRecord]
    /// All late urgent records, listed or not.
    public let lateUrgentCount: Int

    public init(oldestPending: Date?, lateUrgent: [OutboundRecord], lateUrgentCount: Int) {
        self.oldestPending = oldestPending
        self.lateUrgent = lateUrgent
        self.lateUrgentCount = lateUrgentCount
    }
}
