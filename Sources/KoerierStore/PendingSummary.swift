import Foundation

/// What waits too long: the oldest record still to be sent, and the urgent records pending
/// since before the alarm's moment, all counted and the oldest of them listed.
public struct PendingSummary: Sendable {
    /// How many late urgent records are listed at most.
    public static let listedLimit = 100

    /// The late urgent records, oldest first, at most `listedLimit`, each row with the count
    /// of all of them (`late_total`): one query, one snapshot. `columns` are the record's;
    /// `before` is the bound parameter (`?` or `$1`) holding the alarm's moment.
    static func lateUrgentQuery(columns: String, before: String) -> String {
        """
        SELECT \(columns), COUNT(*) OVER () AS late_total FROM outbox
        WHERE urgency = 2 AND state IN ('queued', 'retrying', 'sending') AND created_at < \(before)
        ORDER BY created_at LIMIT \(listedLimit)
        """
    }

    public let oldestPending: Date?
    /// The oldest late urgent records, at most `listedLimit`.
    public let lateUrgent: [OutboundRecord]
    /// All late urgent records, listed or not.
    public let lateUrgentCount: Int
    /// Late urgent records beyond the list.
    public var unlisted: Int { lateUrgentCount - lateUrgent.count }

    public init(oldestPending: Date?, lateUrgent: [OutboundRecord], lateUrgentCount: Int) {
        self.oldestPending = oldestPending
        self.lateUrgent = lateUrgent
        self.lateUrgentCount = lateUrgentCount
    }
}
