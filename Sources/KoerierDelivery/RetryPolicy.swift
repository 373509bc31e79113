import Foundation
import KoerierConfig

/// Exponential backoff with jitter, bounded by attempts and by age; then the record is dead.
public struct RetryPolicy: Sendable {
    public let maxAttempts: Int
    public let maxAge: TimeInterval
    public let firstDelay: TimeInterval
    public let maxDelay: TimeInterval

    public init(maxAttempts: Int, maxAge: TimeInterval, firstDelay: TimeInterval, maxDelay: TimeInterval) {
        self.maxAttempts = maxAttempts
        self.maxAge = maxAge
        self.firstDelay = firstDelay
        self.maxDelay = maxDelay
    }

    public init(_ settings: KoerierConfiguration.DeliverySettings) {
        self.init(
            maxAttempts: settings.maxAttempts, maxAge: TimeInterval(settings.maxAgeSeconds),
            firstDelay: TimeInterval(settings.firstRetrySeconds), maxDelay: TimeInterval(settings.maxRetrySeconds))
    }

    public enum Verdict: Equatable, Sendable {
        case retry(at: Date)
        case giveUp(String)
    }

    /// After a failed attempt number `attempts` (1-based) of a record created at `createdAt`.
    /// Jitter spreads retries of many records over half to all of the delay, so a recipient
    /// coming back is not hit by all of them at once.
    public func verdict(attempts: Int, createdAt: Date, now: Date, jitter: Double = Double.random(in: 0.5...1.0)) -> Verdict {
        if attempts >= maxAttempts { return .giveUp("gave up after \(attempts) attempts") }
        let exponent = Double(min(attempts - 1, 30))
        let delay = min(maxDelay, firstDelay * pow(2, exponent)) * jitter
        let next = now.addingTimeInterval(delay)
        if next.timeIntervalSince(createdAt) > maxAge {
            return .giveUp("gave up: older than \(Int(maxAge / 3600)) hours")
        }
        return .retry(at: next)
    }
}

/// Per-recipient circuit: after `threshold` failures in a row the recipient is paused for
/// `pause`, so one party that is down does not use up the workers or its records' attempts.
final class CircuitBreakers: @unchecked Sendable {
    private let lock = NSLock()
    private var failures: [String: Int] = [:]
    private var pausedUntil: [String: Date] = [:]
    let threshold: Int
    let pause: TimeInterval

    init(threshold: Int, pause: TimeInterval) {
        self.threshold = threshold
        self.pause = pause
    }

    func pausedUntil(_ recipient: String, now: Date) -> Date? {
        lock.withLock {
            guard let until = pausedUntil[recipient], until > now else { return nil }
            return until
        }
    }

    func record(success: Bool, for recipient: String, now: Date) {
        lock.withLock {
            if success {
                failures[recipient] = 0
                pausedUntil[recipient] = nil
                return
            }
            let count = (failures[recipient] ?? 0) + 1
            failures[recipient] = count
            if count >= threshold { pausedUntil[recipient] = now.addingTimeInterval(pause) }
        }
    }
}

/// At most `limit` transfers in flight per recipient; a delivery thread waits for a slot.
final class RecipientSlots: @unchecked Sendable {
    private let condition = NSCondition()
    private var inFlight: [String: Int] = [:]

    /// Runs `transfer` once one of the recipient's `limit` slots is free.
    func withSlot<T>(_ recipient: String, limit: Int, _ transfer: () -> T) -> T {
        condition.lock()
        while inFlight[recipient, default: 0] >= limit { condition.wait() }
        inFlight[recipient, default: 0] += 1
        condition.unlock()
        defer {
            condition.lock()
            inFlight[recipient, default: 1] -= 1
            condition.broadcast()
            condition.unlock()
        }
        return transfer()
    }
}
