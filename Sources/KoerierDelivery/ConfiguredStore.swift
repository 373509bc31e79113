import Foundation
import KoerierConfig
import KoerierStore

/// The store a configuration names, opened with its keys: the embedded SQLite file or the
/// shared PostgreSQL database. Used by every command and the daemon alike.
public enum ConfiguredStore {
    /// `migrate`: apply missing PostgreSQL schema versions first (`koerier init`).
    public static func open(_ configuration: KoerierConfiguration, keys: PayloadKeyRing, auditKey: AuditKey?, migrate: Bool = false) throws
        -> any MessageStore
    {
        switch configuration.storeBackend {
        case .sqlite:
            return try MessageStores.embedded(
                path: configuration.storePath.path, keys: keys, auditKey: auditKey, minimumFreeBytes: configuration.storeMinimumFreeBytes)
        case .postgres(let url, let poolSize, let statementTimeout, let lockTimeout):
            let location: PostgresLocation
            do {
                location = try PostgresLocation(url: url, relativeTo: configuration.file.deletingLastPathComponent())
            } catch {
                throw StoreError("\(configuration.file.path): \(error)")
            }
            var timeouts = PostgresTimeouts()
            timeouts.maximumConnections = poolSize
            timeouts.statementMilliseconds = statementTimeout
            timeouts.lockMilliseconds = lockTimeout
            return try MessageStores.postgres(location: location, keys: keys, auditKey: auditKey, timeouts: timeouts, migrate: migrate)
        }
    }

    /// Where the store is, for messages (no credentials).
    public static func describe(_ configuration: KoerierConfiguration) -> String {
        switch configuration.storeBackend {
        case .sqlite: return configuration.storePath.path
        case .postgres(let url, _, _, _):
            return (try? PostgresLocation(url: url, relativeTo: configuration.file.deletingLastPathComponent()).description) ?? "PostgreSQL"
        }
    }

    /// True when several daemons may share the store (no per-file daemon lock, no doorbell).
    public static func isShared(_ configuration: KoerierConfiguration) -> Bool {
        if case .postgres = configuration.storeBackend { return true }
        return false
    }
}
