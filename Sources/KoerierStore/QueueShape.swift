import Foundation

/// Letters not yet settled, counted by partner, state and age, as Postfix's `qshape`
/// shows a queue: where letters pile up and for how long.
public struct QueueShapeRow: Sendable, Equatable {
    public let recipientID: String
    public let state: DeliveryState
    /// Index into `QueueShape.bucketMinutes` (the last bucket is everything older).
    public let ageBucket: Int
    public let count: Int

    public init(recipientID: String, state: DeliveryState, ageBucket: Int, count: Int) {
        self.recipientID = recipientID
        self.state = state
        self.ageBucket = ageBucket
        self.count = count
    }
}

public enum QueueShape {
    /// Upper ends of the age buckets in minutes, doubling as qshape's do; a last, open bucket
    /// holds everything older.
    public static let bucketMinutes = [5, 10, 20, 40, 80, 160, 320, 640, 1280]

    /// The states counted: everything but the finished ones (delivered, acknowledged,
    /// cancelled), which grow without bound until purged.
    public static let countedStates: [DeliveryState] = [.queued, .retrying, .sending, .blocked, .dead]

    static var stateList: String { "(" + countedStates.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")" }

    /// The bucket of a record's age as SQL both backends run (created_at in epoch seconds).
    static func bucketSQL(now: Date) -> String {
        let seconds = now.timeIntervalSince1970
        let cases = bucketMinutes.enumerated().map { index, minutes in
            "WHEN created_at > \(seconds - Double(minutes * 60)) THEN \(index)"
        }
        return "CASE " + cases.joined(separator: " ") + " ELSE \(bucketMinutes.count) END"
    }

    static func query(now: Date) -> String {
        """
        SELECT recipient_id, state, \(bucketSQL(now: now)) AS bucket, COUNT(*) AS n FROM outbox
        WHERE state IN \(stateList) GROUP BY recipient_id, state, bucket ORDER BY recipient_id, state, bucket
        """
    }
}
