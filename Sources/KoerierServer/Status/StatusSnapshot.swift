import Foundation
import KoerierConfig
import KoerierDelivery
import KoerierSecurity
import KoerierStore

/// What the status page shows, read at one moment: the queue's shape, the lanes, dead
/// letters, late urgent letters, certificates and the CRL, the last hour's deliveries and
/// whether the audit chain holds. Message ids, partner ids and reasons only: no patient data.
public struct StatusSnapshot: Sendable {
    public let takenAt: Date
    public let owner: String
    public let shape: [QueueShapeRow]
    public let lanes: [LaneStatus]
    public let deadLetters: [OutboundRecord]
    /// Urgent letters pending past the alarm: all counted, the oldest listed.
    public let lateUrgent: PendingSummary
    public let urgentAlarmMinutes: Int
    public let certificates: [CertificateExpiry]
    public let crlNextUpdate: Date?
    public let crlFile: String?
    public let history: [DeliveryHistory.Minute]
    /// nil: not checked yet; otherwise the first break, or "" when whole.
    public let auditProblem: String?
}

/// Gathers snapshots for the admin port; the audit chain is verified at most every
/// `auditInterval` (a walk of the whole log), the rest is read at each request.
public final class StatusSource: @unchecked Sendable {
    let configuration: KoerierConfiguration
    let store: any MessageStore
    let worker: DeliveryWorker
    let owner: String
    private let lock = NSLock()
    private var audit: (checkedAt: Date, problem: String)?
    /// A walk of the chain is under way: requests meanwhile show the last result.
    private var auditWalking = false
    let auditInterval: TimeInterval = 600

    public init(configuration: KoerierConfiguration, store: any MessageStore, worker: DeliveryWorker, owner: String) {
        self.configuration = configuration
        self.store = store
        self.worker = worker
        self.owner = owner
    }

    public func snapshot(now: Date = Date()) async throws -> StatusSnapshot {
        let store = store
        let urgentBefore = now.addingTimeInterval(-Double(configuration.urgentAlarmSeconds))
        // The whole chain is walked only every `auditInterval` (the log can be long), and by
        // one request at a time.
        let checkAudit: Bool = lock.withLock {
            guard !auditWalking, audit.map({ now.timeIntervalSince($0.checkedAt) > auditInterval }) ?? true else { return false }
            auditWalking = true
            return true
        }
        defer { if checkAudit { lock.withLock { auditWalking = false } } }
        let (shape, dead, late, auditProblem) = try await store.executor.run {
            var problem: String?
            if checkAudit {
                // A walk that cannot be made (a table gone) is a broken chain too.
                do { problem = try store.verifyAudit() ?? "" } catch { problem = "the chain cannot be read: \(error)" }
            }
            return (
                try store.queueShape(now: now),
                try store.records(state: .dead, recipientType: nil, since: nil, limit: 20),
                try store.pendingSummary(urgentBefore: urgentBefore),
                problem
            )
        }
        if let auditProblem { lock.withLock { audit = (now, auditProblem) } }
        let current = worker.directory
        // Lanes of the partners in the directory now: one removed by a reload (or a letter for
        // an unknown partner, dead at its first attempt) has no circuit worth showing or alerting on.
        let lanes = worker.laneStatuses().filter { current[$0.recipientID] != nil }
        return StatusSnapshot(
            takenAt: now, owner: owner, shape: shape, lanes: lanes, deadLetters: dead, lateUrgent: late,
            urgentAlarmMinutes: configuration.urgentAlarmSeconds / 60,
            certificates: CertificateInventory.list(configuration: configuration, directory: current),
            crlNextUpdate: configuration.crl.flatMap(TrustStore.crlNextUpdate(file:)), crlFile: configuration.crl?.path,
            history: worker.history.lastHour(now: now), auditProblem: lock.withLock { audit?.problem })
    }
}
