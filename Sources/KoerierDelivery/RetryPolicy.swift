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
