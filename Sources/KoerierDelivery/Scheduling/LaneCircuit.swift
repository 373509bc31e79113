import Foundation

/// A lane's circuit. After `threshold` attempts in a row that got no usable answer, the
/// lane stops sending; after a backoff (starting at the first retry delay, doubling up to
/// `maximumBackoff`) it probes with one letter at a time (half-open). The first answer
/// closes it again. Letters are not attempted while it is open, so their attempts are not
/// used up by a partner that is down.
struct LaneCircuit {
    enum State: Equatable {
        case closed(failures: Int)
        case open(until: Date, backoff: TimeInterval)
        case halfOpen(backoff: TimeInterval)
    }

    private(set) var state: State = .closed(failures: 0)
    /// When the circuit last opened, until it closes again (probes do not reset it).
    private(set) var openedAt: Date?
    let threshold: Int
    let firstBackoff: TimeInterval
    let maximumBackoff: TimeInterval

    /// How many transfers the lane may have in flight now.
    mutating func capacity(limit: Int, now: Date) -> Int {
        switch state {
        case .closed: return limit
        case .halfOpen: return 1
        case .open(let until, let backoff):
            guard now >= until else { return 0 }
            state = .halfOpen(backoff: backoff)
            return 1
        }
    }

    /// When an open circuit will probe, for the scheduler's sleep.
    var probeAt: Date? {
        if case .open(let until, _) = state { return until }
        return nil
    }

    /// Records an attempt's result; true when this closed a circuit that was probing (the
    /// partner is back, and the lane's waiting retries may go now).
    mutating func record(answered: Bool, now: Date) -> Bool {
        switch (state, answered) {
        case (.halfOpen, true):
            state = .closed(failures: 0)
            openedAt = nil
            return true
        case (_, true):
            state = .closed(failures: 0)
            openedAt = nil
        case (.closed(let failures), false):
            guard failures + 1 >= threshold else {
                state = .closed(failures: failures + 1)
                break
            }
            state = .open(until: now.addingTimeInterval(firstBackoff), backoff: firstBackoff)
            openedAt = now
        case (.halfOpen(let backoff), false):
            let next = min(maximumBackoff, backoff * 2)
            state = .open(until: now.addingTimeInterval(next), backoff: next)
        case (.open, false):
            break
        }
        return false
    }
}
