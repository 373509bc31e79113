import ArgumentParser
import Foundation
import KoerierDelivery
import KoerierStore

struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Work on the store as a whole.", subcommands: [StoreMigrateCommand.self])
}

struct StoreMigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Move the embedded (SQLite) store, with its audit history, into the PostgreSQL store of another configuration.",
        discussion: """
            Stop the daemon first: the store is copied under its daemon lock. The target database \
            must be empty and the target configuration must use the same payload and audit key \
            files: records, payloads and the audit chain are copied as they are, checked with the \
            target's keys before anything is written, in one transaction. The chain is verified \
            on both sides. The SQLite file is left as it was.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The configuration whose store (PostgreSQL) receives the copy.", valueName: "CONFIG"))
    var to: String

    func run() throws {
        try Output.reportingFailures {
            let source = try global.loadConfiguration()
            guard case .sqlite = source.storeBackend else {
                throw CommandFailure(
                    "\(source.file.path): the store to migrate must be the embedded one (SQLite)", exitCode: .configurationError)
            }
            var targetOptions = GlobalOptions()
            targetOptions.config = to
            let (targetConfiguration, target) = try targetOptions.openStore(migrate: true)
            guard ConfiguredStore.isShared(targetConfiguration) else {
                throw CommandFailure("\(targetConfiguration.file.path): the target store must be PostgreSQL", exitCode: .configurationError)
            }
            let keys: PayloadKeyRing
            let auditKey: AuditKey?
            do {
                keys = try PayloadKeyRing.load(file: source.payloadKeyFile)
                auditKey = try source.auditKeyFile.map(AuditKey.load)
            } catch {
                throw CommandFailure("\(error)", exitCode: .configurationError)
            }
            let bar = ProgressBar("migrate")
            let summary = try storeOperation {
                try StoreMigration.copy(sqlitePath: source.storePath.path, keys: keys, auditKey: auditKey, to: target) {
                    bar.update($0.copied, of: $0.total, detail: $0.table)
                }
            }
            for (table, count) in summary.rows { print("\(table): \(count) row(s)") }
            print(
                "\(source.storePath.path) -> \(ConfiguredStore.describe(targetConfiguration)): copied; audit chain verified on both sides "
                    + "(entry \(summary.auditSequence), \(summary.auditHash.prefix(16))…)")
        }
    }
}
