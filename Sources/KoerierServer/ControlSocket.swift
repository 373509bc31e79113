import Foundation
import Hummingbird
import HummingbirdCore
import KoerierModel
import KoerierStore
import KoerierWorkflow
import Logging
import NIOCore

/// State-changing operations of a running gateway (phase completions, retry, cancel,
/// consent), over a Unix domain socket: mode 0660 with the configured group, so only the
/// daemon's user and that group may connect, and the kernel tells who did (SO_PEERCRED).
/// Every operation is audited with that person and on whose behalf they acted
/// (`On-Behalf-Of`). JSON bodies only. The loopback HTTP admin port keeps only `/health`
/// and `/metrics`.
public struct ControlSocket: Sendable {
    let path: String
    let group: String?
    let store: any MessageStore
    /// The current operations (a reload brings a new directory, signer and trust).
    let operations: @Sendable () -> ControlOperations
    let logger: Logger
    let enqueued: @Sendable () -> Void

    public init(
        path: String, group: String?, store: any MessageStore, operations: @escaping @Sendable () -> ControlOperations,
        logger: Logger, enqueued: @escaping @Sendable () -> Void = {}
    ) {
        self.path = path
        self.group = group
        self.store = store
        self.operations = operations
        self.logger = logger
        self.enqueued = enqueued
    }

    public func application(onRunning: @escaping @Sendable () async -> Void = {}) throws -> some ApplicationProtocol {
        try Self.removeStaleSocket(path)
        let groupID = try group.map(Self.groupID)
        let router = Router(context: PeerRequestContext.self)
        ControlRoutes(store: store, operations: operations, enqueued: enqueued).add(to: router)
        var quiet = logger
        quiet.logLevel = .warning
        let path = path
        return Application(
            router: router, configuration: .init(address: .unixDomainSocket(path: path), serverName: "koerier-control"),
            onServerRunning: { [logger] _ in
                // Bound with the umask's 0700; widened to the group only now, never to others.
                // If that fails the socket goes: nobody may reach a socket whose access is not as configured.
                let owned = groupID.map { chown(path, geteuid(), $0) == 0 } ?? true
                guard owned, chmod(path, groupID == nil ? 0o600 : 0o660) == 0 else {
                    logger.critical(
                        "control socket: cannot set its group and mode; removed, state changes need a restart",
                        metadata: ["path": "\(path)", "reason": "\(String(cString: strerror(errno)))"])
                    unlink(path)
                    return
                }
                await onRunning()
            }, logger: quiet)
    }

    /// Linux's `struct ucred` (which Swift's Glibc module leaves out without _GNU_SOURCE).
    struct PeerCredentials: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    struct Peer {
        let pid: Int32
        let actor: String
    }

    /// The connecting process's user (SO_PEERCRED), named as "uid N (login)".
    static func peer(of channel: any Channel) async -> Peer? {
        guard let provider = channel as? SocketOptionProvider else { return nil }
        guard
            let credentials: PeerCredentials = try? await provider.unsafeGetSocketOption(
                level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED)
            ).get()
        else { return nil }
        let login = getpwuid(credentials.uid).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "?"
        return Peer(pid: credentials.pid, actor: "uid \(credentials.uid) (\(login))")
    }

    static func groupID(_ name: String) throws -> gid_t {
        guard let entry = getgrnam(name) else { throw ControlSocketError("serve.control_group: no group named '\(name)'") }
        return entry.pointee.gr_gid
    }

    /// A socket left by a daemon that was killed; anything else at the path is not ours to remove.
    static func removeStaleSocket(_ path: String) throws {
        var status = stat()
        guard lstat(path, &status) == 0 else { return }
        guard status.st_mode & S_IFMT == S_IFSOCK else {
            throw ControlSocketError("\(path): exists and is not a socket; the control socket needs this path")
        }
        unlink(path)
    }
}

public struct ControlSocketError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
