import Foundation
import KoerierStore

/// Settled attempts per minute over the last hour, kept in memory by the daemon: what the
/// status page charts (letters per second, delivery latency). A restart starts it empty;
/// Prometheus keeps the long history.
public final class DeliveryHistory: @unchecked Sendable {
    public struct Minute: Sendable, Equatable {
        /// The minute's start.
        public let start: Date
        public var delivered = 0
        public var failed = 0
        /// Queued-to-delivered seconds of the letters delivered in this minute.
        public var latencySum: Double = 0
        public var latencyMax: Double = 0

        public var averageLatency: Double? { delivered > 0 ? latencySum / Double(delivered) : nil }
    }

    private let lock = NSLock()
    private var minutes: [Int: Minute] = [:]
    static let kept = 60

    public init() {}

    /// An attempt ended in `state` for a letter queued at `queuedAt`.
    public func record(_ state: DeliveryState, queuedAt: Date, at now: Date) {
        let minute = Int(now.timeIntervalSince1970 / 60)
        lock.withLock {
            // Minutes older than the hour leave when a new one starts, not at every letter.
            if minutes[minute] == nil { minutes = minutes.filter { $0.key > minute - Self.kept } }
            var entry = minutes[minute] ?? Minute(start: Date(timeIntervalSince1970: Double(minute) * 60))
            switch state {
            case .delivered, .acknowledged:
                let latency = max(0, now.timeIntervalSince(queuedAt))
                entry.delivered += 1
                entry.latencySum += latency
                entry.latencyMax = max(entry.latencyMax, latency)
            case .retrying, .dead, .blocked: entry.failed += 1
            default: break
            }
            minutes[minute] = entry
        }
    }

    /// The last hour, oldest first, one entry per minute (empty minutes included).
    public func lastHour(now: Date = Date()) -> [Minute] {
        let current = Int(now.timeIntervalSince1970 / 60)
        return lock.withLock {
            (current - Self.kept + 1...current).map { minutes[$0] ?? Minute(start: Date(timeIntervalSince1970: Double($0) * 60)) }
        }
    }
}
