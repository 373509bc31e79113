import Foundation

/// Who may read the daemon's files. Secrets (private keys, payload and audit keys, relay
/// passwords) must belong to the daemon's user with no access for group or others; the
/// store's folder and database files must belong to it with no access for others. A daemon
/// refuses to start otherwise, naming each file and the `chmod` that fixes it; only an
/// explicit `test_mode` (the TEST ONLY hierarchy a fresh clone checks out with mode 644)
/// turns these into warnings.
public enum FileAccess {
    public struct Finding: Sendable, CustomStringConvertible {
        public let path: String
        public let problem: String
        /// The command that mends it (`chmod 600 …`, `chown …`).
        public let fix: String
        public var description: String { "\(path): \(problem)" }
    }

    /// Every problem with the files `configuration` names, plus `secrets` from elsewhere
    /// (the recipient directory's password files).
    public static func findings(for configuration: KoerierConfiguration, secrets: [URL] = []) -> [Finding] {
        var found: [Finding] = []
        let store = configuration.storePath
        let folder = store.deletingLastPathComponent()
        found += check(folder, what: "the store folder", forbidden: 0o007, fix: "chmod 700")
        for suffix in ["", "-wal", "-shm"] {
            found += check(URL(fileURLWithPath: store.path + suffix), what: "a store file", forbidden: 0o007, fix: "chmod 600")
        }
        var keys = [configuration.payloadKeyFile] + secrets
        if let auditKey = configuration.auditKeyFile { keys.append(auditKey) }
        if let identity = configuration.identity { keys += identity.keyFiles }
        for key in keys { found += check(key, what: "a secret", forbidden: 0o077, fix: "chmod 600") }
        return found
    }

    /// Problems with one path (none when it does not exist yet: it will be made owner-only).
    public static func check(_ url: URL, what: String, forbidden: mode_t, fix: String) -> [Finding] {
        var status = stat()
        guard stat(url.path, &status) == 0 else { return [] }
        var found: [Finding] = []
        if status.st_uid != geteuid() {
            found.append(
                Finding(
                    path: url.path, problem: "\(what) belongs to uid \(status.st_uid), not to this daemon's uid \(geteuid())",
                    fix: "chown \(NSUserName()) \(url.path)"))
        }
        let mode = status.st_mode & 0o777
        if mode & forbidden != 0 {
            let command = "\(fix) \(url.path)"
            found.append(
                Finding(
                    path: url.path,
                    problem:
                        "\(what) has mode \(String(mode, radix: 8)); \(forbidden == 0o077 ? "group and others" : "others") must have no access: \(command)",
                    fix: command))
        }
        return found
    }
}
