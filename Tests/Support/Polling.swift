import Foundation

/// Waits for a condition by polling it until a deadline: tests wait for what they need,
/// never for a fixed time, and say what they waited for when it does not come.
public enum Polling {
    public struct Timeout: Error, CustomStringConvertible {
        public let description: String
    }

    /// Polls `condition` every `interval` seconds until it holds or `timeout` seconds pass.
    public static func until(
        _ what: String, timeout: TimeInterval = 20, interval: TimeInterval = 0.05, _ condition: () throws -> Bool
    ) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if try condition() { return }
            if Date() > deadline { throw Timeout(description: "waited \(Int(timeout)) s for: \(what)") }
            try await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000))
        }
    }

    /// Like `until`, for code that cannot be async (a `Process` reader, a synchronous test).
    public static func blockingUntil(
        _ what: String, timeout: TimeInterval = 20, interval: TimeInterval = 0.05, _ condition: () throws -> Bool
    ) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if try condition() { return }
            if Date() > deadline { throw Timeout(description: "waited \(Int(timeout)) s for: \(what)") }
            usleep(UInt32(interval * 1_000_000))
        }
    }
}
