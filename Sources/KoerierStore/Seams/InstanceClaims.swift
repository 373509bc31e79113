import Foundation

/// A store several daemons share names each daemon by its instance name (`store.instance`),
/// and a daemon's leases by that name: at start a daemon puts back the leases its name still
/// holds (a run that was killed). Two live daemons under one name would put back each
/// other's leases and send those letters twice, so a name is claimed first, for as long as
/// the daemon runs, the way the embedded store's daemon lock is.
public protocol InstanceClaims: Sendable {
    /// Holds `owner` while the returned claim lives; throws when a live daemon holds it.
    func claimInstance(_ owner: String) throws -> InstanceClaim
}

/// A held instance name; released when the last reference goes (and by the database when
/// the process dies, SIGKILL included).
public final class InstanceClaim: Sendable {
    private let release: @Sendable () -> Void

    init(release: @escaping @Sendable () -> Void) { self.release = release }

    deinit { release() }
}
