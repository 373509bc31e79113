import Foundation

/// One partner's lane as the scheduler sees it now, for the status page and the metrics.
public struct LaneStatus: Sendable, Equatable {
    public enum Circuit: Sendable, Equatable {
        case closed(failuresInARow: Int)
        /// Not sending until `probeAt`.
        case open(probeAt: Date)
        /// One letter at a time, to see whether the partner answers again.
        case probing
    }

    public let recipientID: String
    public let limit: Int
    public let inFlight: Int
    public let circuit: Circuit
    /// Since when the circuit has been open or probing (nil while closed).
    public let openSince: Date?
    public let lastError: String?
    public let lastAttemptAt: Date?
}

extension LaneCircuit {
    var status: LaneStatus.Circuit {
        switch state {
        case .closed(let failures): return .closed(failuresInARow: failures)
        case .open(let until, _): return .open(probeAt: until)
        case .halfOpen: return .probing
        }
    }
}
