import ArgumentParser
import Foundation
import KoerierConfig
import KoerierDelivery
import KoerierStore

/// State changes go to a running daemon over its control socket, which audits the person
/// the kernel names; without a daemon the CLI works on the store itself (as the daemon's
/// user, the only one who can open it), audited with that OS user.
struct ControlOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Whom you act for (recorded in the audit log).", valueName: "NAME"))
    var onBehalfOf: String?

    /// The daemon's JSON answer, or nil when no daemon runs. A refusal is a failure with
    /// the daemon's reason.
    func viaDaemon(_ configuration: KoerierConfiguration, _ path: String, json: [String: Any] = [:]) throws -> [String: Any]? {
        // The daemon's user owns the store (a shared store: the daemon's control socket);
        // without it there is no daemon to ask.
        let shared = ConfiguredStore.isShared(configuration)
        var store = stat()
        guard stat(shared ? configuration.serve.controlSocket.path : configuration.storePath.path, &store) == 0 else { return nil }
        let client = ControlClient(socket: configuration.serve.controlSocket, onBehalfOf: onBehalfOf, daemonUser: store.st_uid)
        let outcome: ControlClient.Outcome
        do {
            outcome = try client.post(path, json: json)
        } catch {
            throw CommandFailure("\(error)")
        }
        guard case .answered(let status, let body) = outcome else {
            // Working on the store beside a running daemon would bypass the socket's audit of the person.
            if !shared, let holder = DaemonLock.holder(storePath: configuration.storePath.path) {
                throw CommandFailure(
                    "a daemon (\(holder)) runs on this store but its control socket \(configuration.serve.controlSocket.path) does not answer"
                )
            }
            return nil
        }
        guard (200..<300).contains(status) else {
            throw CommandFailure((body?["error"] as? String) ?? "the daemon answered \(status)")
        }
        return body ?? [:]
    }
}
