import Foundation
import KoerierModel
import KoerierSecurity
import KoerierStore
import KoerierXML
import Metrics

/// What one attempt decided for its record: the scheduler writes it, with the lease's
/// token, together with other settlements and the next leases (group commit).
struct Settlement: Sendable {
    let record: OutboundRecord
    let lease: String
    let transition: Transition
    /// The receipt that proved the delivery, kept with the state change.
    let receipt: InboundMessage?
    /// Whether the partner answered (for the lane's circuit); nil when nothing was sent.
    let answered: Bool?
}

/// How one attempt ended, for the scheduler.
enum AttemptResult: Sendable {
    case decided(Settlement)
    /// The store could not be read: the lease expires and the record is tried again.
    case storeFailed(String)
}

/// One leased record, from its stored bytes through the recipient's adapter and channel to
/// the state it should move to. It only reads the store; the scheduler writes the outcome.
struct LetterAttempt: Sendable {
    let parts: DeliveryWorker.Parts

    /// `payload`: the record's stored bytes, read after its lease; nil when they could not be
    /// read now (the lease expires and the record is tried again). Bytes that cannot be
    /// opened (their key left the key file, or they were altered) block the record for ops
    /// rather than coming back at every lease expiry.
    func run(_ record: OutboundRecord, payload: Result<Data, StoreError>?) -> AttemptResult {
        guard let lease = record.leaseToken else { return .storeFailed("record \(record.id) was handed over without a lease") }
        let bytes: Data
        switch payload {
        case nil: return .storeFailed("record \(record.id): its payload could not be read now")
        case .success(let opened)?: bytes = opened
        case .failure(let problem)?:
            return .decided(
                finish(
                    record, lease,
                    Transition(
                        to: .blocked,
                        error: "payload-unreadable: \(problem); restore the key file it was sealed with, then `koerier retry \(record.id)`")
                ))
        }
        do {
            return .decided(try attempt(record, lease: lease, payload: bytes))
        } catch {
            return .storeFailed("\(error)")
        }
    }

    private func attempt(_ record: OutboundRecord, lease: String, payload: Data) throws -> Settlement {
        let store = parts.store
        guard let recipient = parts.directory[record.recipientID] else {
            return finish(
                record, lease, Transition(to: .dead, error: "unknown recipient '\(record.recipientID)': not in the recipient directory"))
        }
        let adapter = parts.adapters.adapter(for: recipient.type)
        let consent = adapter.readsConsent ? try store.consents(transactionID: record.transactionID) : []
        if let reason = adapter.withheld(consent: consent, for: recipient) {
            return finish(record, lease, Transition(to: .blocked, error: reason))
        }
        let letter: OutgoingMessage
        if let preparedID = record.preparedMessageID, let kind = MessageKind(rawValue: record.kind) {
            // Decided and signed at enqueue: these bytes, on every attempt.
            guard LetterFormatter.carries(payload, as: recipient.format) else {
                return finish(
                    record, lease,
                    Transition(
                        to: .blocked,
                        error:
                            "format-changed: queued in another format than \(recipient.id)'s entry now takes (\(recipient.format.name)); "
                            + "queue the letter again"))
            }
            letter = OutgoingMessage(messageID: try MessageID(preparedID), kind: kind, bytes: payload)
        } else {
            switch try deriveNow(record, payload: payload, adapter: adapter, recipient: recipient) {
            case .sendable(let outgoing): letter = outgoing
            case .settled(let transition): return finish(record, lease, transition)
            }
        }
        let channel = parts.channels.channel(for: recipient)
        let wire: Data
        do {
            wire = try channel.prepare(letter)
        } catch .blocked(let reason) {
            return finish(record, lease, Transition(to: .blocked, error: reason))
        } catch .failed(let reason) {
            return finish(record, lease, Transition(to: .dead, error: reason))
        }
        let verdict = channel.interpret(channel.send(wire, for: letter), for: letter)
        return settle(record, lease, letter: letter, verdict: verdict)
    }

    private enum Derived {
        case sendable(OutgoingMessage)
        case settled(Transition)
    }

    /// A record queued without a prepared copy (before copies were made at enqueue, or one
    /// its recipient may never see): the adapter decides now.
    private func deriveNow(_ record: OutboundRecord, payload: Data, adapter: any RecipientAdapter, recipient: Recipient) throws -> Derived {
        let message: Message
        do {
            message = try parts.codec.decode(payload)
        } catch {
            let problem = error.problems.first.map { "\($0)" } ?? ""
            return .settled(Transition(to: .dead, error: "the stored message no longer passes validation: \(problem)"))
        }
        do {
            switch try adapter.derive(message, bytes: payload, for: recipient) {
            case .send(let outgoing):
                do {
                    return .sendable(try parts.adapters.formats.render(outgoing, for: recipient, now: record.createdAt))
                } catch {
                    return .settled(Transition(to: .blocked, error: error.reason))
                }
            case .block(let reason): return .settled(Transition(to: .blocked, error: reason))
            }
        } catch {
            return .settled(Transition(to: .dead, error: "the \(recipient.type.rawValue) adapter failed: \(error)"))
        }
    }

    private func settle(_ record: OutboundRecord, _ lease: String, letter: OutgoingMessage, verdict: ChannelVerdict) -> Settlement {
        // A prepared copy's id and digest have been on record since enqueue.
        let prepared = record.preparedMessageID != nil
        let sentID = prepared ? nil : letter.messageID.value
        let digest = prepared ? nil : ReceiptMatch.sha256Hex(letter.bytes)
        let transition: Transition
        switch verdict {
        case .acknowledged(let receipt), .rejected(_, let receipt):
            var rejection: String?
            if case .rejected(let reason, _) = verdict { rejection = reason }
            transition = Transition(
                to: rejection == nil ? .acknowledged : .dead, error: rejection, receiptID: receipt.messageID.value,
                sentMessageID: sentID, sentDigest: digest)
            return Settlement(record: record, lease: lease, transition: transition, receipt: receipt, answered: true)
        case .delivered(let note):
            transition = Transition(to: .delivered, error: note, sentMessageID: sentID, sentDigest: digest)
        case .refused(let reason):
            transition = Transition(to: .dead, error: reason)
        case .retryLater(let reason, let after):
            switch parts.policy.verdict(attempts: record.attempts, createdAt: record.createdAt, now: Date()) {
            case .retry(let at):
                // The partner's own Retry-After wins when it asks for longer than our backoff.
                let next = after.map { max(at, Date().addingTimeInterval(min($0, parts.policy.maxDelay))) } ?? at
                transition = Transition(to: .retrying, error: reason, nextAttemptAt: next)
            case .giveUp(let why):
                transition = Transition(to: .dead, error: "\(reason); \(why)")
            }
        }
        return Settlement(record: record, lease: lease, transition: transition, receipt: nil, answered: verdict.partnerAnswered)
    }

    private func finish(_ record: OutboundRecord, _ lease: String, _ transition: Transition) -> Settlement {
        Settlement(record: record, lease: lease, transition: transition, receipt: nil, answered: nil)
    }
}

/// What `GET /metrics` reports about deliveries (swift-metrics; `koerier serve` exports it
/// in Prometheus form).
enum DeliveryMetrics {
    /// An outcome that arrived after its lease was taken over (a stalled daemon that woke
    /// up): refused by the store, it changed nothing.
    static func leaseLost() {
        Counter(label: "koerier_lease_lost_total").increment()
    }

    /// An outcome the store refused on its own while it took others: set aside, so that its
    /// record's lease expires and the record is tried again.
    static func settlementSetAside() {
        Counter(label: "koerier_settlements_set_aside_total").increment()
    }

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
