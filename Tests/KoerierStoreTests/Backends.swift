import Foundation
import GRDB
import KoerierStore
import KoerierTestSupport
import Testing

/// The store suite runs on both backends: the embedded SQLite file and PostgreSQL (a
/// database of its own on the tests' private cluster).
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// A fresh store of one backend, with its key file in a scratch folder.
struct ScratchStore {
    let backend: Backend
    let folder: URL
    let keyFile: URL
    /// The SQLite file, or the PostgreSQL URL.
    let location: String
    let store: any MessageStore

    init(_ backend: Backend, keys: PayloadKeyRing? = nil) throws {
        self.backend = backend
        folder = try Repository.temporaryDirectory()
        keyFile = folder.appendingPathComponent("payload.keys")
        try PayloadKeyRing.createKeyFile(at: keyFile)
        switch backend {
        case .sqlite: location = folder.appendingPathComponent("var/koerier.sqlite").path
        case .postgres: location = try TestPostgres.freshDatabase()
        }
        store = try Self.open(backend, location, keys: try keys ?? PayloadKeyRing.load(file: keyFile), migrate: true)
    }

    static func open(_ backend: Backend, _ location: String, keys: PayloadKeyRing, auditKey: AuditKey? = nil, migrate: Bool = false) throws
        -> any MessageStore
    {
        switch backend {
        case .sqlite: return try MessageStores.embedded(path: location, keys: keys, auditKey: auditKey)
        case .postgres:
            return try MessageStores.postgres(
                location: try PostgresLocation(url: location, relativeTo: Repository.root), keys: keys, auditKey: auditKey, migrate: migrate
            )
        }
    }

    /// The same database opened again with other keys.
    func reopen(keys: PayloadKeyRing, auditKey: AuditKey? = nil) throws -> any MessageStore {
        try Self.open(backend, location, keys: keys, auditKey: auditKey)
    }

    /// SQL run by someone with direct access to the database, past the store (tampering).
    func sql(_ statement: String) throws {
        switch backend {
        case .sqlite:
            let queue = try DatabaseQueue(path: location)
            try queue.write { try $0.execute(sql: statement) }
        case .postgres:
            try TestPostgres.psql(statement, database: TestPostgres.databaseName(of: location))
        }
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }
}
