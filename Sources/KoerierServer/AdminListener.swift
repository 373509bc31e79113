import Foundation
import Hummingbird
import KoerierModel
import KoerierStore
import KoerierWorkflow
import Logging
import Metrics
import NIOCore
import Prometheus

/// The local admin port (plain HTTP, loopback only; the configuration refuses anything
/// else): `GET /health`, `GET /metrics` (Prometheus text), and phase events as
/// `POST /v1/trajectories/{id}/phases?phase=fase-2[&amend=true]` with the report as body.
public struct AdminListener: Sendable {
    let host: String
    let port: Int
    let store: any MessageStore
    let registry: PrometheusCollectorRegistry
    let phases: PhaseCompletion
    let logger: Logger
    /// Called after a phase completion queued letters (wakes the delivery scheduler).
    let enqueued: @Sendable () -> Void

    public init(
        host: String, port: Int, store: any MessageStore, registry: PrometheusCollectorRegistry, phases: PhaseCompletion, logger: Logger,
        enqueued: @escaping @Sendable () -> Void = {}
    ) {
        self.enqueued = enqueued
        self.host = host
        self.port = port
        self.store = store
        self.registry = registry
        self.phases = phases
        self.logger = logger
    }

    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        let store = store
        let registry = registry
        let phases = phases
        let enqueued = enqueued
        router.get("/health") { _, _ -> Response in
            do {
                _ = try await store.executor.run { try store.counts() }
                return Self.json(200, ["status": "ok"])
            } catch {
                return Self.json(503, ["status": "store unavailable", "reason": "\(error)"])
            }
        }
        router.get("/metrics") { _, _ -> Response in
            // Queue depth is read from the store at each scrape (the counts are maintained, so cheap).
            var depth: [DeliveryState: Int] = [:]
            let (outbound, inbound) =
                (try? await store.executor.run { (try store.counts(), try store.inboundCounts()) }) ?? ([], [:])
            for entry in outbound { depth[entry.state, default: 0] += entry.count }
            for state in DeliveryState.allCases {
                Gauge(label: "koerier_queue_depth", dimensions: [("state", state.rawValue)]).record(depth[state] ?? 0)
            }
            for (state, count) in inbound {
                Gauge(label: "koerier_inbound_messages", dimensions: [("state", state.rawValue)]).record(count)
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.post("/v1/trajectories/{id}/phases") { request, context -> Response in
            guard let id = context.parameters.get("id", as: Int64.self) else { return Self.json(404, ["error": "no such trajectory"]) }
            guard let phaseName = request.uri.queryParameters.get("phase"), let phase = Phase(rawValue: phaseName) else {
                return Self.json(400, ["error": "?phase= must be one of \(Phase.allCases.map(\.rawValue).joined(separator: ", "))"])
            }
            let amend = request.uri.queryParameters.get("amend") == "true"
            let body = try await request.body.collect(upTo: 1 << 20)
            do {
                let report = try PhaseReport.decode(Data(buffer: body))
                // Store, libxml2 and xmlsec work: on the store's executor, off the cooperative pool.
                let outcome = try await store.executor.run {
                    try phases.complete(
                        trajectory: id, phase: phase, report: report, amend: amend,
                        context: AuditContext(actor: "service:koerier-admin", accessPoint: "admin@127.0.0.1"))
                }
                if !outcome.queued.isEmpty { enqueued() }
                return Self.json(
                    201,
                    [
                        "letter": outcome.letterID,
                        "queued": outcome.queued.map { ["recipient": $0.recipient, "record": $0.record.id] },
                        "skipped": outcome.skipped.map { ["recipient": $0.recipient, "reason": $0.reason] },
                    ])
            } catch let error as PhaseError {
                return Self.json(error.description.contains("already completed") ? 409 : 422, ["error": error.description])
            } catch {
                return Self.json(500, ["error": "\(error)"])
            }
        }
        var quiet = logger
        quiet.logLevel = .warning
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "koerier-admin"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) }, logger: quiet)
    }

    static func json(_ status: Int, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data + Data("\n".utf8))))
    }
}
