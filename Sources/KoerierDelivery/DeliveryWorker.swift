import Foundation
import KoerierModel
import KoerierSecurity
import KoerierStore
import KoerierXML

/// What one pass of deliveries did, per final state of each record it handled.
public struct DeliveryReport: Sendable, Equatable {
    public var handled: [DeliveryState: Int] = [:]
    public var total: Int { handled.values.reduce(0, +) }
    public init() {}
}

/// The delivery scheduler: one lane per directory entry, each with its own limit of
/// transfers in flight and its own circuit, so a hung or slow partner holds only its own
/// lane. It leases each lane's due letters (urgent first) under fenced leases, renews the
/// leases while transfers run, and sends on the store's `BlockingExecutor` (grown by the
/// lanes' limits), never on Swift's cooperative pool. An enqueue wakes it (`wake()`); otherwise it sleeps until
/// the next retry, lease renewal or circuit probe is due.
public final class DeliveryWorker: @unchecked Sendable {
    public struct Parts: Sendable {
        public let store: any MessageStore
        public let directory: RecipientDirectory
        public let codec: MessageCodec
        public let adapters: AdapterSet
        public let channels: ChannelSet
        public let receipts: ReceiptCheck
        public let policy: RetryPolicy

        public init(
            store: any MessageStore, directory: RecipientDirectory, codec: MessageCodec, adapters: AdapterSet, channels: ChannelSet,
            receipts: ReceiptCheck, policy: RetryPolicy
        ) {
            self.store = store
            self.directory = directory
            self.codec = codec
            self.adapters = adapters
            self.channels = channels
            self.receipts = receipts
            self.policy = policy
        }
    }

    public struct Settings: Sendable {
        public var leaseDuration: TimeInterval
        public var circuitFailures: Int
        /// The longest wait between two probes of a partner that is down.
        public var circuitMaximumBackoff: TimeInterval
        /// How long a stop waits for transfers in flight before it gives up on them (their
        /// leases are released at the next start).
        public var drainTimeout: TimeInterval

        public init(leaseDuration: TimeInterval, circuitFailures: Int, circuitMaximumBackoff: TimeInterval, drainTimeout: TimeInterval) {
            self.leaseDuration = leaseDuration
            self.circuitFailures = circuitFailures
            self.circuitMaximumBackoff = circuitMaximumBackoff
            self.drainTimeout = drainTimeout
        }
    }

    /// Replaced as a whole by `reload(_:)` (SIGHUP): directory, keys, trust, channels.
    private var currentParts: Parts
    var parts: Parts { condition.withLock { currentParts } }
    /// The recipient directory in use (the last reload's).
    public var directory: RecipientDirectory { parts.directory }
    let owner: String
    let settings: Settings
    let context: AuditContext
    private let executor: BlockingExecutor

    private let condition = NSCondition()
    private var lanes: [String: Lane] = [:]
    private var inFlight: [Int64: InFlight] = [:]
    private var woken = false
    private var stopping = false
    private var passReport = DeliveryReport()
    /// Outcomes decided by transfers, waiting for the scheduler's next commit.
    private var settlements: [Settlement] = []
    /// Touched only by the scheduler's own thread.
    private var lastFullScan = Date.distantPast
    /// Executor threads already allowed for lane slots (a reload adds only what grew).
    private var laneThreads = 0

    private struct Lane {
        var limit: Int
        var circuit: LaneCircuit
        var busy = 0
        /// The last attempt's error (nil after a success), for the status page.
        var lastError: String?
        var lastAttemptAt: Date?
    }

    /// Letters settled per minute over the last hour, for the status page's charts.
    public let history = DeliveryHistory()

    private struct InFlight {
        let lease: String
        var renewAt: Date
    }

    public init(parts: Parts, owner: String, settings: Settings) {
        currentParts = parts
        self.owner = owner
        self.settings = settings
        context = AuditContext(actor: "service:koerier-deliver", accessPoint: owner)
        // The daemon's one executor (the store's), with a thread for every lane slot added.
        executor = parts.store.executor
        allowLaneThreads(for: parts.directory)
    }

    /// Grows the executor to the directory's lane slots; never shrinks (threads idle out).
    private func allowLaneThreads(for directory: RecipientDirectory) {
        let wanted = directory.recipients.values.reduce(0) { $0 + $1.concurrency }
        let added: Int = condition.withLock {
            defer { laneThreads = max(laneThreads, wanted) }
            return max(0, wanted - laneThreads)
        }
        executor.raiseLimit(by: added)
    }

    /// New parts read from the configuration again (SIGHUP): the next attempts use its
    /// directory, keys, trust and channels (fresh connections); transfers in flight finish
    /// with the old ones. Lanes keep their circuits and take the new limits.
    public func reload(_ parts: Parts) {
        allowLaneThreads(for: parts.directory)
        condition.withLock {
            currentParts = parts
            for id in lanes.keys { lanes[id]?.limit = parts.directory[id]?.concurrency ?? 1 }
            woken = true
            condition.broadcast()
        }
    }

    /// Every lane the scheduler has opened (a partner it had letters for), by recipient id.
    public func laneStatuses() -> [LaneStatus] {
        condition.withLock {
            lanes.map { id, lane in
                LaneStatus(
                    recipientID: id, limit: lane.limit, inFlight: lane.busy, circuit: lane.circuit.status, openSince: lane.circuit.openedAt,
                    lastError: lane.lastError, lastAttemptAt: lane.lastAttemptAt)
            }.sorted { $0.recipientID < $1.recipientID }
        }
    }

    /// Something was enqueued: look for due letters now rather than at the next timer.
    public func wake() {
        condition.lock()
        woken = true
        condition.broadcast()
        condition.unlock()
    }

    /// One pass: every letter due now is attempted once (lanes in parallel, each within its
    /// limit; lanes whose circuit is open are skipped); returns when all have settled.
    public func deliverDue() async throws -> DeliveryReport {
        try await onOwnThread { try self.loop(once: true, shouldStop: { false }) }
    }

    /// Delivers until `shouldStop` says so, then waits up to the drain timeout for the
    /// transfers in flight.
    public func run(shouldStop: @escaping @Sendable () -> Bool) async throws {
        _ = try await onOwnThread { try self.loop(once: false, shouldStop: shouldStop) }
    }

    /// Asks a running `run` to stop now (a graceful shutdown), without waiting for its next timer.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.name = "koerier-scheduler"
            thread.start()
        }
    }

    // MARK: The scheduler's own thread

    private func loop(once: Bool, shouldStop: @escaping @Sendable () -> Bool) throws -> DeliveryReport {
        let passStart = Date()
        condition.lock()
        passReport = DeliveryReport()
        condition.unlock()
        while true {
            condition.lock()
            let stop = stopping || shouldStop()
            condition.unlock()
            if stop { break }
            renewLeases()
            let dispatched: Int
            do {
                dispatched = try commitAndFill(dueBy: once ? passStart : Date())
            } catch {
                // The store refused (disk full, I/O error): settlements wait for the next
                // pass; unsettled leases expire and their records are tried again.
                if once { throw error }
                Thread.sleep(forTimeInterval: 1)
                continue
            }
            condition.lock()
            if once, dispatched == 0, inFlight.isEmpty, settlements.isEmpty {
                condition.unlock()
                break
            }
            if dispatched == 0, !woken, !stopping, settlements.isEmpty {
                _ = condition.wait(until: nextWakeUp(once: once))
            }
            woken = false
            condition.unlock()
        }
        drain()
        _ = try? commitAndFill(dueBy: nil)
        condition.lock()
        defer { condition.unlock() }
        return passReport
    }

    /// One transaction: the outcomes transfers decided since the last pass (each with its
    /// lease's token; one whose lease was lost is skipped and recorded nowhere), then the
    /// leases each lane may take now (none with `dueBy` nil). Group commit: under load one
    /// disk flush settles several letters and leases the next ones. The number dispatched.
    private func commitAndFill(dueBy: Date?) throws -> Int {
        let batch: [Settlement] = condition.withLock {
            defer { settlements.removeAll() }
            return settlements
        }
        let now = Date()
        let outcome: (settled: [(Settlement, DeliveryState?)], leased: [OutboundRecord])
        do {
            outcome = try parts.store.transaction { tx in
                let settled = try batch.map { settlement in (settlement, try self.apply(settlement, in: tx, now: now)) }
                return (settled, try self.lease(dueBy: dueBy, now: now, in: tx))
            }
        } catch {
            // The pass as one transaction was refused: its outcomes one by one, then the leases.
            guard !batch.isEmpty else { throw error }
            outcome = try settleAlone(batch, dueBy: dueBy, now: now)
        }
        condition.withLock {
            for case (let settlement, let state?) in outcome.settled {
                passReport.handled[state, default: 0] += 1
                DeliveryMetrics.record(state, queuedAt: settlement.record.createdAt)
            }
        }
        // The leased letters' bytes after the commit (the writer is free again), in one query
        // rather than a read per attempt. A read that fails leaves each attempt to fail alone
        // (its lease expires and the record is tried again); it never holds the pass back.
        let payloads = (try? parts.store.deliveryPayloads(of: outcome.leased.map(\.id))) ?? [:]
        for record in outcome.leased { dispatch(record, payload: payloads[record.id]) }
        return outcome.leased.count
    }

    /// After a pass the store refused: each outcome in a transaction of its own, then the
    /// leases in another. One outcome the store refuses for what it is (a row it cannot read
    /// back, a value it will not take) would otherwise undo every pass and hold back every
    /// lane. If even the leases cannot be written the store itself is failing (a full disk):
    /// the refused outcomes wait for the next pass. Otherwise they are set aside; their
    /// leases expire and their records are tried again.
    private func settleAlone(_ batch: [Settlement], dueBy: Date?, now: Date) throws
        -> (settled: [(Settlement, DeliveryState?)], leased: [OutboundRecord])
    {
        var settled: [(Settlement, DeliveryState?)] = []
        var refused: [(Settlement, any Error)] = []
        for settlement in batch {
            do {
                settled.append((settlement, try parts.store.transaction { tx in try self.apply(settlement, in: tx, now: now) }))
            } catch {
                refused.append((settlement, error))
            }
        }
        let leased: [OutboundRecord]
        do {
            leased = try parts.store.transaction { tx in try self.lease(dueBy: dueBy, now: now, in: tx) }
        } catch {
            condition.withLock { settlements.insert(contentsOf: refused.map(\.0), at: 0) }
            throw error
        }
        for (settlement, error) in refused {
            DeliveryMetrics.settlementSetAside()
            let why = "the store refused the outcome of record \(settlement.record.id) (\(settlement.transition.to.rawValue)): \(error)"
            condition.withLock { lanes[settlement.record.recipientID]?.lastError = why }
            // On record for ops: why this letter will be sent again when its lease expires.
            try? parts.store.recordAudit(
                AuditEvent(
                    kind: .retry, actor: context.actor, messageID: settlement.record.messageID, accessPoint: context.accessPoint,
                    outcome: "set aside, tried again when the lease expires: \(why)"), now: now)
        }
        return (settled, leased)
    }

    /// Writes one outcome; nil when the lease was lost (the update changed nothing).
    private func apply(_ settlement: Settlement, in tx: any StoreTransaction, now: Date) throws -> DeliveryState? {
        do {
            if let receipt = settlement.receipt {
                return try tx.settle(
                    settlement.record.id, settlement.transition, lease: settlement.lease, receipt: receipt, now: now, context: context
                ).state
            }
            return try tx.transition(settlement.record.id, settlement.transition, lease: settlement.lease, now: now, context: context).state
        } catch is LeaseLost {
            DeliveryMetrics.leaseLost()
            return nil
        }
    }

    /// Leases what each lane with work may take now, inside the pass's transaction (nothing
    /// with `dueBy` nil: the last pass of a stop).
    private func lease(dueBy: Date?, now: Date, in tx: any StoreTransaction) throws -> [OutboundRecord] {
        guard let dueBy else { return [] }
        // The directory's lanes are looked up by index; a scan of the whole queue (for
        // records whose recipient left the directory) runs at most every few seconds.
        let scanAll = now.timeIntervalSince(lastFullScan) > 5
        if scanAll { lastFullScan = now }
        var leased: [OutboundRecord] = []
        let lanesInDirectory = Array(parts.directory.recipients.keys)
        for recipientID in try tx.dueRecipients(among: scanAll ? nil : lanesInDirectory, dueBy: dueBy) {
            // The directory's concurrency is also the partner's limit on a shared store.
            let (free, laneLimit): (Int, Int?) = condition.withLock {
                var lane = lanes[recipientID] ?? newLane(recipientID)
                let capacity = lane.circuit.capacity(limit: lane.limit, now: now)
                lanes[recipientID] = lane
                return (capacity - lane.busy, currentParts.directory[recipientID]?.concurrency)
            }
            guard free > 0 else { continue }
            leased += try tx.leaseDue(
                owner: owner, now: now, duration: settings.leaseDuration, limit: free, recipientID: recipientID, laneLimit: laneLimit,
                dueBy: dueBy, context: context)
        }
        return leased
    }

    /// Called with the condition's lock held (reads `currentParts` directly).
    private func newLane(_ recipientID: String) -> Lane {
        Lane(
            limit: currentParts.directory[recipientID]?.concurrency ?? 1,
            circuit: LaneCircuit(
                threshold: settings.circuitFailures, firstBackoff: currentParts.policy.firstDelay,
                maximumBackoff: max(currentParts.policy.firstDelay, settings.circuitMaximumBackoff)))
    }

    private func dispatch(_ record: OutboundRecord, payload: Result<Data, StoreError>?) {
        condition.withLock {
            lanes[record.recipientID]?.busy += 1
            inFlight[record.id] = InFlight(
                lease: record.leaseToken ?? "", renewAt: Date().addingTimeInterval(settings.leaseDuration / 3))
        }
        let attempt = LetterAttempt(parts: parts)
        executor.submit {
            let result = attempt.run(record, payload: payload)
            self.finished(record, result)
        }
    }

    private func finished(_ record: OutboundRecord, _ result: AttemptResult) {
        var expedite = false
        condition.lock()
        inFlight[record.id] = nil
        lanes[record.recipientID]?.busy -= 1
        if case .decided(let settlement) = result {
            settlements.append(settlement)
            let now = Date()
            lanes[record.recipientID]?.lastError = settlement.transition.error
            lanes[record.recipientID]?.lastAttemptAt = now
            history.record(settlement.transition.to, queuedAt: record.createdAt, at: now)
            if let answered = settlement.answered {
                expedite = lanes[record.recipientID]?.circuit.record(answered: answered, now: now) ?? false
            }
        }
        woken = true  // a slot is free and an outcome waits: commit and fill again
        condition.broadcast()
        condition.unlock()
        if expedite {
            // The partner is back: its letters waiting out a backoff may go now.
            _ = try? parts.store.expediteRetries(recipientID: record.recipientID, now: Date())
            wake()
        }
    }

    /// Extends the leases of transfers still running, a third of a lease before they expire.
    private func renewLeases() {
        let now = Date()
        let due: [(Int64, InFlight)] = condition.withLock { inFlight.filter { $0.value.renewAt <= now }.map { ($0.key, $0.value) } }
        for (id, flight) in due {
            do {
                try parts.store.extendLease(id, lease: flight.lease, until: now.addingTimeInterval(settings.leaseDuration), now: now)
                condition.withLock { inFlight[id]?.renewAt = now.addingTimeInterval(settings.leaseDuration / 3) }
            } catch {
                // Lost or the store failed: the attempt's own settle will find out; stop renewing.
                condition.withLock { inFlight[id]?.renewAt = .distantFuture }
            }
        }
    }

    /// The next moment something may be due: a lease renewal, a circuit probe, or at most a
    /// second away (a retry coming due, a record enqueued by another process). A probe time
    /// already past counts no more: that lane probes with its next due letter, which the
    /// one-second look finds (waking for it again and again would spin the scheduler for as
    /// long as the lane has nothing due).
    private func nextWakeUp(once: Bool) -> Date {
        let now = Date()
        var next = now.addingTimeInterval(once ? 0.2 : 1)
        for flight in inFlight.values where flight.renewAt < next { next = flight.renewAt }
        for lane in lanes.values { if let probe = lane.circuit.probeAt, probe > now, probe < next { next = probe } }
        return next
    }

    /// Waits for transfers in flight, at most the drain timeout.
    private func drain() {
        let deadline = Date().addingTimeInterval(settings.drainTimeout)
        condition.lock()
        while !inFlight.isEmpty, condition.wait(until: deadline) {}
        condition.unlock()
    }
}
