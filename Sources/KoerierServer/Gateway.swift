import Foundation
import KoerierConfig
import KoerierDelivery
import KoerierSecurity
import KoerierStore
import KoerierWorkflow
import KoerierXML
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `koerier serve`: intake listener (HTTPS, mutual TLS), delivery worker, drop folder and
/// the local admin port, in one service group. SIGTERM or SIGINT stop intake from
/// accepting, let requests and transfers in flight finish, then exit.
public enum Gateway {
    public static func run(
        configuration: KoerierConfiguration, store: any MessageStore, codec: MessageCodec, logger: Logger,
        registry: PrometheusCollectorRegistry
    ) async throws {
        guard let identity = configuration.identity, let anchors = configuration.trustAnchors else {
            throw PhaseError("\(configuration.file.path): `serve` needs 'identity' and 'trust.anchors'")
        }
        // One daemon per embedded store; held until the process ends (the kernel drops it on any exit).
        let daemonLock = try DaemonLock.claim(storePath: configuration.storePath.path, role: "serve")
        defer { withExtendedLifetime(daemonLock) {} }
        let parts = try DeliveryAssembly.parts(configuration: configuration, store: store, codec: codec)
        let verifier = parts.receipts.verifier
        let signing = parts.adapters.signing
        let serve = configuration.serve
        let intake = IntakeProcessor(
            store: store, directory: parts.directory,
            receipts: ReceiptIntake(store: store, directory: parts.directory, receipts: parts.receipts),
            accessPoint: "https://\(serve.listenHost):\(serve.listenPort)")
        let audit = AuditContext(actor: "service:koerier-intake", accessPoint: "https://\(serve.listenHost):\(serve.listenPort)")
        let responder = ReceiptingResponder(
            codec: codec, verifier: verifier, signing: signing,
            previousReceipt: { try? store.issuedReceipt(for: $0.value) },
            keepReceipt: { receipt, id in try store.recordIssuedReceipt(receipt, for: id.value, now: Date()) },
            refused: { messageID, reason in
                logger.notice(
                    "intake refused a message", metadata: ["message_id": "\(messageID ?? "-")", "reason": "\(reason.prefix(160))"])
                try? store.recordAudit(
                    AuditEvent(
                        kind: .receive, actor: audit.actor, messageID: messageID, accessPoint: audit.accessPoint,
                        outcome: "refused: \(reason.prefix(300))"), now: Date())
            },
            repeated: { messageID in
                logger.info("a message arrived again: answered with its original receipt", metadata: ["message_id": "\(messageID)"])
                try? store.recordAudit(
                    AuditEvent(
                        kind: .receive, actor: audit.actor, messageID: messageID.value, accessPoint: audit.accessPoint,
                        outcome: "duplicate: answered with the original receipt"), now: Date())
            },
            accept: { message, bytes, signer in
                try intake.accept(message, bytes: bytes, sender: signer.organisation ?? signer.subject)
                logger.info("accepted", metadata: ["message_id": "\(message.envelope.messageID)", "kind": "\(message.kind.rawValue)"])
            })
        let chainFile = try DeliveryAssembly.clientChainFile(configuration: configuration)
        let listener = MessageListener(
            host: serve.listenHost, port: serve.listenPort,
            tls: ListenerTLS(certificateChain: chainFile, key: identity.key, clientAnchors: anchors),
            maxBodyBytes: configuration.maxMessageBytes
        ) { request in
            // Parsing, signature checks, storing and signing block: on the store's executor.
            (try? await store.executor.run { responder.answer(request) })
                ?? ListenerAnswer(status: 503, body: Data("the gateway cannot answer now\n".utf8), retryAfter: 5)
        }
        let owner = "serve@\(ProcessInfo.processInfo.hostName):\(configuration.storePath.path)"
        let worker = DeliveryAssembly.worker(configuration: configuration, parts: parts, owner: owner)
        // Enqueues in this process (phase completions) and in others (the CLI) wake the scheduler.
        let doorbell = Doorbell(storePath: configuration.storePath.path) { worker.wake() }
        defer { withExtendedLifetime(doorbell) {} }
        let phases = PhaseCompletion(store: store, directory: parts.directory, codec: codec, signing: signing)
        let admin = AdminListener(
            host: serve.adminHost, port: serve.adminPort, store: store, registry: registry, phases: phases, logger: logger,
            enqueued: { worker.wake() })
        try FileManager.default.createDirectory(at: serve.inbox, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let drop = DropDirectoryIntake(folder: serve.inbox, codec: codec, verifier: verifier, intake: intake, logger: logger)
        // The daemon lock makes this the only `serve` on the store: leases still held under
        // this owner belong to a run that was killed, and go back to the queue now.
        let released = try store.releaseLeases(
            owner: owner, now: Date(), context: AuditContext(actor: "service:koerier-serve", accessPoint: owner))
        if released > 0 { logger.notice("released the leases of a stopped run", metadata: ["records": "\(released)"]) }

        let services: [any Service] = [
            try listener.application { port in logger.info("intake listening (mutual TLS)", metadata: ["port": "\(port)"]) },
            admin.application { port in logger.info("admin listening (loopback)", metadata: ["port": "\(port)"]) },
            DeliveryService(worker: worker, logger: logger),
            DropDirectoryService(intake: drop, executor: store.executor, logger: logger),
        ]
        var groupConfiguration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // Bounded: the scheduler's drain plus time for the listeners to close.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(min(configuration.delivery.totalTimeoutSeconds, 30) + 5)
        let group = ServiceGroup(configuration: groupConfiguration)
        // The group handles the first signal; a second one ends the process at once.
        let secondSignal = ShutdownSignals(
            onFirst: {}, onSecond: { logger.warning("second signal: exiting without waiting for transfers in flight") })
        defer { withExtendedLifetime(secondSignal) {} }
        try await group.run()
        logger.info("stopped cleanly")
    }
}
