import Foundation
import GRDB

/// The SQLite transaction a unit of work holds on this thread. GRDB runs a write closure
/// on the calling thread, so the store's methods called inside it find the open
/// transaction here and join it instead of starting their own.
enum OpenTransaction {
    private static let key = "koerier.open-transaction"

    static var current: Database? { Thread.current.threadDictionary[key] as? Database }

    static func with<T>(_ db: Database, _ body: () throws -> T) rethrows -> T {
        Thread.current.threadDictionary[key] = db
        defer { Thread.current.threadDictionary.removeObject(forKey: key) }
        return try body()
    }
}

/// Opens the stores Koerier ships with.
public enum MessageStores {
    /// The embedded default: one SQLite file (WAL, synchronous=FULL) at `path`, payloads
    /// sealed with `keys`, refusing new data with less than `minimumFreeBytes` free.
    /// `auditKey`: the audit chain's key from its own file; without one (tests, benches) a
    /// key derived from the payload keys.
    public static func embedded(path: String, keys: PayloadKeyRing, auditKey: AuditKey? = nil, minimumFreeBytes: Int64 = 32 << 20) throws
        -> any MessageStore
    {
        try SQLiteMessageStore(path: path, keys: keys, auditKey: auditKey, minimumFreeBytes: minimumFreeBytes)
    }

    /// The shared store for several daemons: PostgreSQL at `location`. `migrate` applies
    /// missing schema versions first (`koerier init`); otherwise a store whose schema is not
    /// this version's is refused with what to run.
    public static func postgres(
        location: PostgresLocation, keys: PayloadKeyRing, auditKey: AuditKey? = nil, timeouts: PostgresTimeouts = PostgresTimeouts(),
        migrate: Bool = false
    ) throws -> any MessageStore {
        try PostgresMessageStore(location: location, keys: keys, auditKey: auditKey, timeouts: timeouts, migrate: migrate)
    }
}
