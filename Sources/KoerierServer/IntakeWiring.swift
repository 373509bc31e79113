import Foundation
import KoerierConfig
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierStore
import KoerierWorkflow
import KoerierXML
import Logging

/// The intake as `serve` wires it from the delivery parts: made at start and again on every
/// reload, so new trust, keys and directory apply to the next message.
enum IntakeWiring {
    static func processor(parts: DeliveryWorker.Parts, store: any MessageStore, accessPoint: String) -> IntakeProcessor {
        IntakeProcessor(
            store: store, directory: parts.directory,
            receipts: ReceiptIntake(store: store, directory: parts.directory, receipts: parts.receipts), accessPoint: accessPoint)
    }

    static func responder(
        parts: DeliveryWorker.Parts, store: any MessageStore, codec: MessageCodec, logger: Logger, accessPoint: String
    ) -> ReceiptingResponder {
        let intake = processor(parts: parts, store: store, accessPoint: accessPoint)
        let audit = AuditContext(actor: "service:koerier-intake", accessPoint: accessPoint)
        return ReceiptingResponder(
            codec: codec, verifier: parts.receipts.verifier, signing: parts.adapters.signing,
            previousReceipt: { try? store.issuedReceipt(for: $0.value) },
            refused: { messageID, reason in
                logger.notice(
                    "intake refused a message", metadata: ["message_id": "\(messageID ?? "-")", "reason": "\(reason.prefix(160))"])
                try store.recordAudit(
                    AuditEvent(
                        kind: .receive, actor: audit.actor, messageID: messageID, accessPoint: audit.accessPoint,
                        outcome: "refused: \(reason.prefix(300))"), now: Date())
            },
            repeated: { messageID in
                logger.info("a message arrived again: answered with its original receipt", metadata: ["message_id": "\(messageID)"])
                try store.recordAudit(
                    AuditEvent(
                        kind: .receive, actor: audit.actor, messageID: messageID.value, accessPoint: audit.accessPoint,
                        outcome: "duplicate: answered with the original receipt"), now: Date())
            },
            accept: { message, bytes, signer, receipt in
                try intake.accept(message, bytes: bytes, sender: signer.organisation ?? signer.subject, receipt: receipt)
                logger.info("accepted", metadata: ["message_id": "\(message.envelope.messageID)", "kind": "\(message.kind.rawValue)"])
            })
    }
}

/// What the drop folder is made from, so a reload can make it again with new parts.
struct DropFolderWiring: Sendable {
    let folder: URL
    let codec: MessageCodec
    let store: any MessageStore
    let logger: Logger
    let accessPoint: String
    let trustsUnsigned: Bool
    let maxBytes: Int

    func intake(_ parts: DeliveryWorker.Parts) -> DropDirectoryIntake {
        DropDirectoryIntake(
            folder: folder, codec: codec, verifier: parts.receipts.verifier,
            intake: IntakeWiring.processor(parts: parts, store: store, accessPoint: accessPoint), logger: logger,
            trustsUnsigned: trustsUnsigned, maxBytes: maxBytes)
    }
}

/// A value that a reload replaces while readers on other threads use it.
/// The control socket's operations from the delivery parts, made at start and on every reload.
enum ControlWiring {
    static func operations(
        parts: DeliveryWorker.Parts, configuration: KoerierConfiguration, store: any MessageStore, codec: MessageCodec
    ) -> ControlOperations {
        ControlOperations(
            phases: PhaseCompletion(store: store, directory: parts.directory, codec: codec, adapters: parts.adapters),
            consent: Result { () throws(ConsentImportError) -> ConsentImport in
                try ConsentImport.configured(configuration, store: store, directory: parts.directory, trust: parts.receipts.verifier.trust)
            })
    }
}

final class Reloadable<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Value

    init(_ value: Value) { current = value }

    var value: Value {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }
}

/// Runs `reload` on every SIGHUP, on a queue of its own (one reload at a time).
final class ReloadSignal: @unchecked Sendable {
    private let source: DispatchSourceSignal
    private let queue = DispatchQueue(label: "koerier.reload")
    private let reload: @Sendable () -> Void

    init(_ reload: @escaping @Sendable () -> Void) {
        self.reload = reload
        signal(SIGHUP, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
        source.setEventHandler(handler: reload)
        source.resume()
    }

    /// A reload as SIGHUP makes one, on the same queue (one reload at a time).
    func trigger() { queue.async(execute: reload) }

    deinit { source.cancel() }
}

/// The FHIR intake as `serve` wires it, made at start and on every reload (directory, keys).
enum FHIRWiring {
    static func responder(
        parts: DeliveryWorker.Parts, configuration: KoerierConfiguration, bearer: BearerCheck, store: any MessageStore,
        codec: MessageCodec, logger: Logger, accessPoint: String
    ) throws -> FHIRResponder? {
        guard let settings = configuration.serve.fhir else { return nil }
        let signing = parts.adapters.signing
        let fallback = Party(type: .centrum, organisation: signing.signer.identity.certificate.subjectOrganisation ?? "centrum")
        let centre = try signing.ownParty(policy: IdentityPolicy(testMode: configuration.testMode), as: fallback)
        let intake = FHIRReferralIntake(
            store: store, directory: parts.directory, codec: codec, centre: centre, baseURL: settings.baseURL, accessPoint: accessPoint)
        return FHIRResponder(bearer: bearer, intake: intake, executor: store.executor, logger: logger)
    }
}
