import ArgumentParser
import Foundation
import KoerierDelivery
import KoerierStore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the store, the payload key file and the audit key file (mode 600) named in the configuration.",
        discussion: "Leaves an existing key file alone: replacing it would make every stored payload unreadable."
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try Output.reportingFailures {
            let configuration = try global.loadConfiguration()
            let keyFile = configuration.payloadKeyFile
            if FileManager.default.fileExists(atPath: keyFile.path) {
                print("\(keyFile.path): payload key file exists; left as it is")
            } else {
                do {
                    try FileManager.default.createDirectory(at: keyFile.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try PayloadKeyRing.createKeyFile(at: keyFile)
                } catch {
                    throw CommandFailure("\(error)", exitCode: .configurationError)
                }
                print("\(keyFile.path): new payload key (mode 600); back it up: without it the stored payloads cannot be read")
            }
            if let auditKeyFile = configuration.auditKeyFile {
                if FileManager.default.fileExists(atPath: auditKeyFile.path) {
                    print("\(auditKeyFile.path): audit key file exists; left as it is")
                } else {
                    do { try AuditKey.createKeyFile(at: auditKeyFile) } catch {
                        throw CommandFailure("\(error)", exitCode: .configurationError)
                    }
                    print(
                        "\(auditKeyFile.path): new audit key (mode 600); keep it apart from database backups: it proves the audit log untouched"
                    )
                }
            }
            // PostgreSQL: the schema's missing versions are applied here, and only here.
            _ = try global.openStore(configuration, migrate: true)
            print("\(ConfiguredStore.describe(configuration)): store ready")
        }
    }
}
