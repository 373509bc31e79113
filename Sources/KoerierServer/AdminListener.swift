import Foundation
import Hummingbird
import KoerierModel
import KoerierSecurity
import KoerierStore
import KoerierWorkflow
import Logging
import Metrics
import NIOCore
import Prometheus

/// The local admin port (plain HTTP, loopback only; the configuration refuses anything
/// else): `GET /health`, `GET /metrics` (Prometheus text) and `GET /status` (the status
/// page, with `/status.css`), which change nothing. State changes go over the control
/// socket (`ControlSocket`), where the caller is known.
public struct AdminListener: Sendable {
    let host: String
    let port: Int
    let store: any MessageStore
    let registry: PrometheusCollectorRegistry
    let logger: Logger
    /// The configured CRL file: its freshness is exported at each scrape.
    let crl: URL?
    /// The status page's data (and the alerts' gauges); nil: no page.
    let status: StatusSource?

    public init(
        host: String, port: Int, store: any MessageStore, registry: PrometheusCollectorRegistry, logger: Logger, crl: URL? = nil,
        status: StatusSource? = nil
    ) {
        self.crl = crl
        self.status = status
        self.host = host
        self.port = port
        self.store = store
        self.registry = registry
        self.logger = logger
    }

    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        let store = store
        let registry = registry
        let crl = crl
        let status = status
        router.get("/status") { _, _ -> Response in
            guard let status else { return Response(status: .notFound) }
            do {
                return Self.page(StatusPage.html(try await status.snapshot()), type: "text/html; charset=utf-8")
            } catch {
                return Self.json(503, ["status": "store unavailable", "reason": "\(error)"])
            }
        }
        router.get("/status.css") { _, _ -> Response in
            Self.page(StatusPage.stylesheet, type: "text/css; charset=utf-8")
        }
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
            let snapshot = try? await status?.snapshot()
            if let snapshot { StatusGauges.record(snapshot) }
            if let crl {
                // Negative once the CRL is past its nextUpdate: alert on < 0. The snapshot has
                // read the file already.
                let nextUpdate = snapshot.map(\.crlNextUpdate) ?? TrustStore.crlNextUpdate(file: crl)
                let remaining = nextUpdate.map { $0.timeIntervalSinceNow } ?? -1
                Gauge(label: "koerier_crl_seconds_until_next_update").record(remaining)
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        var quiet = logger
        quiet.logLevel = .warning
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "koerier-admin"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) }, logger: quiet)
    }

    /// The page and its stylesheet: nothing but them may load (CSP), never cached or framed.
    static func page(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.contentSecurityPolicy] = StatusPage.contentSecurityPolicy
        headers[.cacheControl] = "no-store"
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ status: Int, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data + Data("\n".utf8))))
    }
}
