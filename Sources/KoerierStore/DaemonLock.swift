import Foundation

/// One daemon (`serve` or `deliver`) per embedded store, like Postfix's one queue manager
/// per queue: an exclusive `flock` on a file beside the database, held for the life of the
/// process. The kernel drops it when the process dies, SIGKILL included, so a crash never
/// leaves a stale lock; a stopped (SIGSTOP) daemon still holds it. The file names the
/// holder's role and pid for the refusal message.
public final class DaemonLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { close(descriptor) }

    /// Takes the lock for `role`, or explains who holds it.
    public static func claim(storePath: String, role: String) throws -> DaemonLock {
        let path = lockPath(storePath)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError("\(path): cannot open the daemon lock: \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            throw StoreError(
                "another Koerier daemon (\(holder.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown")) is using the store \(storePath); "
                    + "one serve or deliver per embedded store: stop it first (several daemons need the PostgreSQL store)")
        }
        let line = "\(role), pid \(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = line.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        return DaemonLock(descriptor: descriptor)
    }

    /// Who holds the lock (its role and pid), when a live Koerier process does; read from
    /// the lock file and /proc, without touching the lock (a daemon starting now is not hindered).
    public static func holder(storePath: String) -> String? {
        guard let text = try? String(contentsOfFile: lockPath(storePath), encoding: .utf8),
            let match = text.firstMatch(of: /pid ([0-9]+)/), let pid = Int32(match.1), kill(pid, 0) == 0 || errno == EPERM,
            let command = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8), command.hasPrefix("koerier")
        else { return nil }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func lockPath(_ storePath: String) -> String { storePath + ".daemon.lock" }
}
