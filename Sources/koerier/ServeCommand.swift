import ArgumentParser
import Foundation
import KoerierServer
import Logging
import Metrics
import Prometheus

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway: HTTPS intake (mutual TLS), delivery, the drop folder, and the local admin port.",
        discussion: """
            Intake: POST /v1/messages on serve.listen (mutual TLS, clients chain to trust.anchors). \
            Each message is size-checked, parsed, validated and verified, the TLS client must be \
            the signer and the envelope's sender, and it is stored durably before the answer: a \
            signed receipt (accepted, or rejected with a reason code). A duplicate gets its \
            original receipt back. An accepted referral opens a trajectory. Drop folder: \
            serve.inbox (*.xml, signed, complete files only). Admin (loopback only): GET /health, \
            GET /metrics (Prometheus). Control socket (serve.control_socket, the caller audited): \
            POST /v1/trajectories/ID/phases?phase=P[&amend=true] with a JSON report. \
            SIGTERM or SIGINT drain in-flight work and stop. Logs (serve.log_format text or json) \
            name message ids, never patient data.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let (configuration, codec) = try global.loadCodec()
        let format = configuration.serve.logFormat
        LoggingSystem.bootstrap { label in
            if format == "json" { return JSONLogHandler(label: label) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "koerier")
        let (_, store) = try global.openStore(configuration)
        do {
            try await Gateway.run(configuration: configuration, store: store, codec: codec, logger: logger, registry: registry)
        } catch {
            Output.error("koerier: serve: \(error)")
            throw ExitCode.failure
        }
    }
}
