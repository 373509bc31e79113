import Foundation

/// A store shared by several daemons tells each of them when another made letters due
/// (PostgreSQL: LISTEN/NOTIFY). The scheduler's own timer stays the fallback: a lost
/// wake-up only delays a letter until its next look.
public protocol StoreWakeups: Sendable {
    /// Calls `ring` for every wake-up, and once after each (re)connection (a wake-up may have
    /// been missed meanwhile); reconnects until the task is cancelled.
    func listenForWakeups(_ ring: @escaping @Sendable () -> Void) async
}
