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
        try DaemonFileCheck.run(configuration: configuration) { logger.warning("\($0)") }
        if configuration.testMode { logger.warning("test_mode is on: TEST ONLY identities and relaxed file checks") }
        // One daemon per embedded store; held until the process ends (the kernel drops it on any
        // exit). A shared store has several daemons, each with its own instance name.
        let shared = ConfiguredStore.isShared(configuration)
        let daemonLock = shared ? nil : try DaemonLock.claim(storePath: configuration.storePath.path, role: "serve")
        defer { withExtendedLifetime(daemonLock) {} }
        let parts = try DeliveryAssembly.parts(configuration: configuration, store: store, codec: codec)
        let serve = configuration.serve
        let accessPoint = "https://\(serve.listenHost):\(serve.listenPort)"
        let responder = Reloadable(
            IntakeWiring.responder(parts: parts, store: store, codec: codec, logger: logger, accessPoint: accessPoint))
        // FHIR intake: the JWT issuers' keys are read at start (a new issuer key needs a
        // restart); a reload gives the intake the new directory and signing keys.
        let bearer: BearerCheck? = if let settings = configuration.serve.fhir { try await BearerCheck.load(settings) } else { nil }
        @Sendable func fhirResponder(_ parts: DeliveryWorker.Parts, _ configuration: KoerierConfiguration) throws -> FHIRResponder? {
            guard let bearer else { return nil }
            return try FHIRWiring.responder(
                parts: parts, configuration: configuration, bearer: bearer, store: store, codec: codec, logger: logger,
                accessPoint: accessPoint)
        }
        let fhir = Reloadable(try fhirResponder(parts, configuration))
        var fhirHandler: (@Sendable (InboundRequest) async -> ListenerAnswer)?
        if bearer != nil {
            fhirHandler = { request in
                guard let responder = fhir.value else { return ListenerAnswer(status: 404, body: Data()) }
                return await responder.answer(request)
            }
        }
        let chainFile = try DeliveryAssembly.clientChainFile(configuration: configuration)
        let listenerCredentials = ListenerCredentials()
        let listener = MessageListener(
            host: serve.listenHost, port: serve.listenPort,
            tls: ListenerTLS(
                certificateChain: chainFile, key: identity.tls.key, clientAnchors: anchors,
                // The current trust (reloaded with a new CRL): a revoked client fails the handshake.
                clientCheck: { chain in
                    do {
                        try responder.value.verifier.trust.verifyPeer(chain: chain)
                        return true
                    } catch {
                        logger.notice("a TLS client was refused", metadata: ["reason": "\(error)"])
                        return false
                    }
                }, replacement: listenerCredentials),
            maxBodyBytes: configuration.maxMessageBytes,
            limits: ListenerLimits(
                idleSeconds: serve.idleTimeoutSeconds, bodySeconds: serve.bodyTimeoutSeconds, maxConnections: serve.maxConnections),
            fhirHandler: fhirHandler
        ) { request in
            // Parsing, signature checks, storing and signing block: on the store's executor.
            let current = responder.value
            return (try? await store.executor.run { current.answer(request) })
                ?? ListenerAnswer(status: 503, body: Data("the gateway cannot answer now\n".utf8), retryAfter: 5)
        }
        let owner =
            shared ? "serve@\(configuration.instanceName)" : "serve@\(ProcessInfo.processInfo.hostName):\(configuration.storePath.path)"
        // On a shared store the instance name is this daemon's alone while it runs (the
        // embedded store's daemon lock does the same above).
        let instanceClaim = try (store as? any InstanceClaims)?.claimInstance(owner)
        defer { withExtendedLifetime(instanceClaim) {} }
        let worker = DeliveryAssembly.worker(configuration: configuration, parts: parts, owner: owner)
        // Enqueues in this process (phase completions) and in others (the CLI, other daemons
        // on a shared store) wake the scheduler.
        let doorbell = shared ? nil : Doorbell(storePath: configuration.storePath.path) { worker.wake() }
        defer { withExtendedLifetime(doorbell) {} }
        let wakeups = (store as? any StoreWakeups).map { StoreWakeupService(wakeups: $0) { worker.wake() } }
        // SIGHUP: the configuration, directory, keys, certificates and trust read again; the
        // intake and the scheduler take them for their next work. A broken file changes nothing.
        try FileManager.default.createDirectory(at: serve.inbox, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try DropDirectoryIntake.requireOwnFolder(serve.inbox)
        if serve.dropFolderTrusted {
            logger.warning(
                "drop folder: unsigned files are accepted (serve.drop_folder_trusted); anyone who can write there can submit letters")
        }
        let dropFolder = DropFolderWiring(
            folder: serve.inbox, codec: codec, store: store, logger: logger, accessPoint: accessPoint,
            trustsUnsigned: serve.dropFolderTrusted, maxBytes: configuration.maxMessageBytes)
        // Replaced by each reload, as the responder is: new trust and CRL reach the drop folder too.
        let drop = Reloadable(dropFolder.intake(parts))
        let operations = Reloadable(ControlWiring.operations(parts: parts, configuration: configuration, store: store, codec: codec))
        let reload = ReloadSignal {
            do {
                let fresh = try KoerierConfiguration.load(path: configuration.file.path)
                let freshParts = try DeliveryAssembly.parts(configuration: fresh, store: store, codec: codec)
                let freshFHIR = try fhirResponder(freshParts, fresh)
                if let tls = fresh.identity?.tls {
                    try listenerCredentials.replace(
                        certificateChain: try DeliveryAssembly.clientChainFile(configuration: fresh), key: tls.key)
                }
                responder.value = IntakeWiring.responder(
                    parts: freshParts, store: store, codec: codec, logger: logger, accessPoint: accessPoint)
                fhir.value = freshFHIR
                worker.reload(freshParts)
                drop.value = dropFolder.intake(freshParts)
                operations.value = ControlWiring.operations(parts: freshParts, configuration: fresh, store: store, codec: codec)
                logger.notice("reloaded: configuration, recipient directory, keys, certificates (the listener's own too) and trust")
            } catch {
                logger.error("reload refused; the running configuration stays", metadata: ["reason": "\(error)"])
            }
        }
        defer { withExtendedLifetime(reload) {} }
        try FileManager.default.createDirectory(
            at: serve.controlSocket.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let status = StatusSource(configuration: configuration, store: store, worker: worker, owner: owner)
        let admin = AdminListener(
            host: serve.adminHost, port: serve.adminPort, store: store, registry: registry, logger: logger, crl: configuration.crl,
            status: status)
        let control = ControlSocket(
            path: serve.controlSocket.path, group: serve.controlGroup, store: store, operations: { operations.value }, logger: logger,
            enqueued: { worker.wake() })
        // The daemon lock (or, on a shared store, the instance name) makes this the only daemon
        // with this owner: leases still held under it belong to a run that was killed, and go
        // back to the queue now.
        let released = try store.releaseLeases(
            owner: owner, now: Date(), context: AuditContext(actor: "service:koerier-serve", accessPoint: owner))
        if released > 0 { logger.notice("released the leases of a stopped run", metadata: ["records": "\(released)"]) }

        let services: [any Service] =
            [
                try listener.application { port in logger.info("intake listening (mutual TLS)", metadata: ["port": "\(port)"]) },
                admin.application { port in logger.info("admin listening (loopback)", metadata: ["port": "\(port)"]) },
                try control.application { logger.info("control socket listening", metadata: ["path": "\(serve.controlSocket.path)"]) },
                DeliveryService(worker: worker, logger: logger),
                DropDirectoryService(intake: drop, executor: store.executor, logger: logger),
            ] + (configuration.crl.map { [CRLWatch(file: $0, logger: logger) { reload.trigger() }] } ?? [])
            + (wakeups.map { [$0] } ?? [])
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
