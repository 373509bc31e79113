import Foundation
import Hummingbird
import HummingbirdCore
import KoerierModel
import KoerierStore
import KoerierWorkflow
import Logging
import NIOCore

/// State-changing operations of a running gateway (phase completions), over a Unix domain
/// socket: mode 0660 with the configured group, so only the daemon's user and that group
/// may connect, and the kernel tells who did (SO_PEERCRED). Every operation is audited with
/// that person and on whose behalf they acted (`On-Behalf-Of`). JSON bodies only. The
/// loopback HTTP admin port keeps only `/health` and `/metrics`.
public struct ControlSocket: Sendable {
    let path: String
    let group: String?
    let store: any MessageStore
    /// The current phase completion (a reload brings a new directory and signer).
    let phases: @Sendable () -> PhaseCompletion
    let logger: Logger
    let enqueued: @Sendable () -> Void

    public init(
        path: String, group: String?, store: any MessageStore, phases: @escaping @Sendable () -> PhaseCompletion, logger: Logger,
        enqueued: @escaping @Sendable () -> Void = {}
    ) {
        self.path = path
        self.group = group
        self.store = store
        self.phases = phases
        self.logger = logger
        self.enqueued = enqueued
    }

    public func application(onRunning: @escaping @Sendable () async -> Void = {}) throws -> some ApplicationProtocol {
        try Self.removeStaleSocket(path)
        let groupID = try group.map(Self.groupID)
        let router = Router(context: PeerRequestContext.self)
        let store = store
        let phases = phases
        let enqueued = enqueued
        router.post("/v1/trajectories/{id}/phases") { request, context -> Response in
            guard let person = await Self.peer(of: context.channel) else {
                return AdminListener.json(403, ["error": "the caller's credentials cannot be read"])
            }
            guard request.headers[.contentType]?.hasPrefix("application/json") == true else {
                return AdminListener.json(415, ["error": "the body must be JSON (Content-Type: application/json)"])
            }
            guard let id = context.parameters.get("id", as: Int64.self) else {
                return AdminListener.json(404, ["error": "no such trajectory"])
            }
            guard let phaseName = request.uri.queryParameters.get("phase"), let phase = Phase(rawValue: phaseName) else {
                return AdminListener.json(
                    400, ["error": "?phase= must be one of \(Phase.allCases.map(\.rawValue).joined(separator: ", "))"])
            }
            let amend = request.uri.queryParameters.get("amend") == "true"
            let onBehalfOf = request.headers.first { $0.name.canonicalName == "on-behalf-of" }?.value
            let body = try await request.body.collect(upTo: 1 << 20)
            do {
                let report = try PhaseReport.decode(Data(buffer: body))
                let audit = AuditContext(actor: person.actor, onBehalfOf: onBehalfOf, accessPoint: "control socket (pid \(person.pid))")
                // Store, libxml2 and xmlsec work: on the store's executor, off the cooperative pool.
                let completion = phases()
                let outcome = try await store.executor.run {
                    try completion.complete(trajectory: id, phase: phase, report: report, amend: amend, context: audit)
                }
                if !outcome.queued.isEmpty { enqueued() }
                return AdminListener.json(
                    201,
                    [
                        "letter": outcome.letterID,
                        "queued": outcome.queued.map { ["recipient": $0.recipient, "record": $0.record.id] },
                        "skipped": outcome.skipped.map { ["recipient": $0.recipient, "reason": $0.reason] },
                    ])
            } catch let error as PhaseError {
                return AdminListener.json(error.description.contains("already completed") ? 409 : 422, ["error": error.description])
            } catch {
                return AdminListener.json(500, ["error": "\(error)"])
            }
        }
        var quiet = logger
        quiet.logLevel = .warning
        let path = path
        return Application(
            router: router, configuration: .init(address: .unixDomainSocket(path: path), serverName: "koerier-control"),
            onServerRunning: { _ in
                // Bound with the umask's 0700; widened to the group only now, never to others.
                if let groupID { _ = chown(path, geteuid(), groupID) }
                _ = chmod(path, groupID == nil ? 0o600 : 0o660)
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
