import Foundation
import KoerierModel
import KoerierSecurity
import KoerierStore
import KoerierXML
import Metrics

/// What one delivery round did, per final state of each record it handled.
public struct DeliveryReport: Sendable, Equatable {
    public var handled: [DeliveryState: Int] = [:]
    public var total: Int { handled.values.reduce(0, +) }
    public init() {}
}

/// Leases due records and takes each through its adapter and transport, recording every
/// attempt and its result in the store (and so in the audit log). Store writes and libcurl
/// transfers block, so each round runs on its own small set of threads (like Postfix's
/// delivery agents), never on Swift's cooperative pool, which a listener in the same
/// process needs.
public final class DeliveryWorker: Sendable {
    public struct Parts: Sendable {
        public let store: MessageStore
        public let directory: RecipientDirectory
        public let codec: MessageCodec
        public let adapters: AdapterSet
        public let https: HTTPSTransport
        public let smtp: SMTPTransport
        public let mailSigner: SMIMESigner
        public let receipts: ReceiptCheck
        public let policy: RetryPolicy

        public init(
            store: MessageStore, directory: RecipientDirectory, codec: MessageCodec, adapters: AdapterSet, https: HTTPSTransport,
            smtp: SMTPTransport, mailSigner: SMIMESigner, receipts: ReceiptCheck, policy: RetryPolicy
        ) {
            self.store = store
            self.directory = directory
            self.codec = codec
            self.adapters = adapters
            self.https = https
            self.smtp = smtp
            self.mailSigner = mailSigner
            self.receipts = receipts
            self.policy = policy
        }
    }

    let parts: Parts
    let owner: String
    let batchSize: Int
    let leaseDuration: TimeInterval
    let mailFrom: String
    let context: AuditContext
    let threads: Int
    private let circuits: CircuitBreakers
    private let limits = RecipientSlots()

    public init(
        parts: Parts, owner: String, threads: Int, leaseDuration: TimeInterval, mailFrom: String,
        circuitFailures: Int, circuitPause: TimeInterval
    ) {
        self.parts = parts
        self.threads = threads
        batchSize = threads * 4
        self.owner = owner
        self.leaseDuration = leaseDuration
        self.mailFrom = mailFrom
        context = AuditContext(actor: "service:koerier-deliver", accessPoint: owner)
        circuits = CircuitBreakers(threshold: circuitFailures, pause: circuitPause)
    }

    /// One round: lease what is due now (up to the batch size) and deliver it on `threads` threads.
    public func deliverDue() async throws -> DeliveryReport {
        let leased = try parts.store.leaseDue(owner: owner, now: Date(), duration: leaseDuration, limit: batchSize, context: context)
        guard !leased.isEmpty else { return DeliveryReport() }
        let states = await withTaskGroup(of: [DeliveryState].self) { group in
            let next = LeaseQueue(leased)
            for _ in 0..<min(threads, leased.count) {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        Thread.detachNewThread {
                            var states: [DeliveryState] = []
                            while let record = next.take() { states.append(self.deliver(record)) }
                            continuation.resume(returning: states)
                        }
                    }
                }
            }
            return await group.reduce(into: [DeliveryState]()) { $0 += $1 }
        }
        var report = DeliveryReport()
        for state in states { report.handled[state, default: 0] += 1 }
        return report
    }

    /// Rounds until `shouldStop` says so; idles briefly when nothing is due.
    public func run(pollInterval: TimeInterval = 1, shouldStop: @Sendable () -> Bool) async throws {
        while !shouldStop() {
            let report = try await deliverDue()
            if report.total == 0 { try await Task.sleep(nanoseconds: UInt64(pollInterval * 1e9)) }
        }
    }

    private func deliver(_ record: OutboundRecord) -> DeliveryState {
        do {
            return try attempt(record)
        } catch {
            // A store failure mid-way: the lease expires and the record is tried again.
            return .sending
        }
    }

    private func attempt(_ record: OutboundRecord) throws -> DeliveryState {
        let store = parts.store
        guard let recipient = parts.directory[record.recipientID] else {
            return try finish(
                record, Transition(to: .dead, error: "unknown recipient '\(record.recipientID)': not in the recipient directory"))
        }
        if let until = circuits.pausedUntil(recipient.id, now: Date()) {
            return try store.releaseLease(
                record.id, until: until, reason: "recipient \(recipient.id) paused after repeated failures",
                now: Date(), context: context
            ).state
        }
        let payload = try store.deliveryPayload(of: record.id)
        let message: Message
        do {
            message = try parts.codec.decode(payload)
        } catch {
            return try finish(
                record,
                Transition(
                    to: .dead, error: "the stored message no longer passes validation: \(error.problems.first.map { "\($0)" } ?? "")"))
        }
        let consent = try record.clientReference.flatMap { try store.consent(clientReference: $0) }
        let decision: AdapterDecision
        do {
            decision = try parts.adapters.adapter(for: recipient.type).prepare(message, bytes: payload, for: recipient, consent: consent)
        } catch {
            return try finish(record, Transition(to: .dead, error: "the \(recipient.type.rawValue) adapter failed: \(error)"))
        }
        guard case .send(let outgoing) = decision else {
            if case .block(let reason) = decision { return try finish(record, Transition(to: .blocked, error: reason)) }
            return .sending
        }

        let outcome: TransportOutcome
        switch recipient.transport {
        case .https(let target):
            outcome = limits.withSlot(recipient.id, limit: recipient.concurrency) { parts.https.post(outgoing.bytes, to: target) }
        case .smtp(let target):
            guard let certificateFile = target.certificate,
                let certificate = FileManager.default.contents(atPath: certificateFile.path).flatMap({ Certificate.loadPEM($0).first })
            else {
                return try finish(
                    record,
                    Transition(
                        to: .blocked,
                        error: "no-smime-certificate: \(recipient.id) has no readable S/MIME certificate; nothing is mailed unencrypted"))
            }
            let mail: Data
            do {
                mail = try MailComposer.mail(
                    from: mailFrom, to: target.mailbox, messageID: outgoing.messageID.value, kind: outgoing.kind.rawValue,
                    signer: parts.mailSigner, recipientCertificate: certificate, attachment: outgoing.bytes)
            } catch {
                return try finish(record, Transition(to: .dead, error: "S/MIME failed: \(error)"))
            }
            outcome = limits.withSlot(recipient.id, limit: recipient.concurrency) { parts.smtp.send(mail, to: target) }
        }
        return try settle(record, recipient: recipient, outgoing: outgoing, outcome: outcome)
    }

    private func settle(
        _ record: OutboundRecord, recipient: Recipient, outgoing: OutgoingMessage,
        outcome: TransportOutcome
    ) throws -> DeliveryState {
        let sentID = outgoing.messageID.value
        let digest = ReceiptMatch.sha256Hex(outgoing.bytes)
        switch outcome {
        case .accepted(_, let body):
            circuits.record(success: true, for: recipient.id, now: Date())
            guard case .https = recipient.transport else {
                // Mail: the receipt comes later, through intake (`ReceiptIntake`).
                return try finish(record, Transition(to: .delivered, sentMessageID: sentID, sentDigest: digest))
            }
            do {
                let checked = try parts.receipts.check(body)
                try parts.receipts.require(checked, answers: outgoing.bytes, messageID: outgoing.messageID)
                let receiptID = checked.receipt.envelope.messageID
                var transition = Transition(to: .acknowledged, receiptID: receiptID.value, sentMessageID: sentID, sentDigest: digest)
                if case .rejected(let code, let text) = checked.receipt.outcome {
                    transition = Transition(
                        to: .dead, error: "rejected by \(recipient.id): \(code.rawValue): \(text)",
                        receiptID: receiptID.value, sentMessageID: sentID, sentDigest: digest)
                }
                let receipt = InboundMessage(
                    messageID: receiptID, kind: .receipt, sender: checked.signer.organisation ?? checked.signer.subject,
                    payload: body)
                let state = try parts.store.settle(record.id, transition, receipt: receipt, now: Date(), context: context).state
                DeliveryMetrics.record(state, queuedAt: record.createdAt)
                return state
            } catch let failure as DeliveryFailure {
                return try finish(
                    record,
                    Transition(
                        to: .delivered, error: "accepted without a valid receipt: \(failure)",
                        sentMessageID: sentID, sentDigest: digest))
            }
        case .refused(_, let reason):
            circuits.record(success: true, for: recipient.id, now: Date())  // it answered: not down
            return try finish(record, Transition(to: .dead, error: reason))
        case .failed(let reason):
            circuits.record(success: false, for: recipient.id, now: Date())
            switch parts.policy.verdict(attempts: record.attempts, createdAt: record.createdAt, now: Date()) {
            case .retry(let at): return try finish(record, Transition(to: .retrying, error: reason, nextAttemptAt: at))
            case .giveUp(let why): return try finish(record, Transition(to: .dead, error: "\(reason); \(why)"))
            }
        }
    }

    private func finish(_ record: OutboundRecord, _ transition: Transition) throws -> DeliveryState {
        let state = try parts.store.transition(record.id, transition, now: Date(), context: context).state
        DeliveryMetrics.record(state, queuedAt: record.createdAt)
        return state
    }
}

/// The records of one round, taken once each by the round's threads.
final class LeaseQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var records: ArraySlice<OutboundRecord>
    init(_ records: [OutboundRecord]) { self.records = records[...] }
    func take() -> OutboundRecord? { lock.withLock { records.popFirst() } }
}

/// What `GET /metrics` reports about deliveries (swift-metrics; `koerier serve` exports it
/// in Prometheus form).
enum DeliveryMetrics {
    static func record(_ state: DeliveryState, queuedAt: Date) {
        Counter(label: "koerier_deliveries_total", dimensions: [("outcome", state.rawValue)]).increment()
        switch state {
        case .delivered, .acknowledged:
            Metrics.Timer(label: "koerier_delivery_latency_seconds").recordSeconds(max(0, Date().timeIntervalSince(queuedAt)))
        case .retrying:
            Counter(label: "koerier_delivery_failures_total").increment()
        case .dead:
            Counter(label: "koerier_delivery_failures_total").increment()
            Counter(label: "koerier_dead_letters_total").increment()
        default:
            break
        }
    }
}
