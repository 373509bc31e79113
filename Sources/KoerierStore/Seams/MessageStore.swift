import Foundation

/// Everything one business step may touch, inside one transaction.
public typealias StoreTransaction = OutboxStore & InboxStore & TrajectoryStore & AuditStore

/// The gateway's store: the outbox, the inbox, trajectories and consent, and the audit
/// log, with a unit of work that makes one business step one transaction on any backend.
/// The embedded default is SQLite (`MessageStores.embedded`); the protocols are shaped for
/// a PostgreSQL implementation shared by several gateway instances (`leaseDue` is one
/// `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)` there, fenced by the token).
public protocol MessageStore: StoreTransaction {
    /// Pseudonyms for the audit log, from this store's keys.
    var clientReferencer: ClientReferencer { get }

    /// Runs `body` as one transaction: every store call made through the given handle
    /// commits together, or none does when `body` throws. Blocks; see the async variant.
    func transaction<T>(_ body: (any StoreTransaction) throws -> T) throws -> T

    /// A unit of work that may share its transaction (and its disk flush) with others
    /// running at the same moment: each still commits or rolls back as a whole, and this
    /// returns only once it is durable. For many concurrent small steps (intake).
    func groupedTransaction<T>(_ body: (any StoreTransaction) throws -> T) throws -> T

    /// The store's executor, where blocking store work runs for async callers.
    var executor: BlockingExecutor { get }
}

extension MessageStore {
    /// The unit of work for async callers: runs on the store's executor, never on Swift's
    /// cooperative pool.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        try await executor.run { try self.transaction(body) }
    }
}
