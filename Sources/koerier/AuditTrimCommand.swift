import ArgumentParser
import Foundation
import KoerierSecurity
import KoerierStore
import KoerierWorkflow

struct AuditTrimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trim",
        abstract: "Retention: remove the audit entries up to the newest signed checkpoint made before a date.",
        discussion: """
            The log then starts after the checkpoint's entry, and `audit verify --checkpoints FILE` \
            requires that entry to be named by a signed checkpoint in FILE: keep the checkpoint \
            file (NEN 7513 asks for audit entries to be kept for years; trim only what your \
            retention period allows). The trim is itself an audit entry. Entries are deleted in \
            batches, so daemons keep running.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Trim through the newest checkpoint made before this moment (YYYY-MM-DD or timestamp).", valueName: "T"))
    var before: String

    @Option(help: ArgumentHelp("The signed checkpoints (a file written by `audit checkpoint`, or syslog).", valueName: "FILE"))
    var checkpoints: String

    func run() throws {
        try Output.reportingFailures {
            let limit = try parseMoment(before, option: "--before")
            let (configuration, store) = try global.openStore()
            let (lines, certificate) = try CheckpointFile.read(checkpoints, configuration: configuration)
            let candidates = AuditCheckpoint.read(lines, certificate: certificate)
                .compactMap { try? $0.checkpoint.get() }
                .filter { ($0.madeAt ?? .distantFuture) < limit }
            guard let newest = candidates.max(by: { $0.sequence < $1.sequence }) else {
                throw CommandFailure("\(checkpoints): no checkpoint of this gateway made before \(iso(limit)); nothing was removed")
            }
            if let problem = try storeOperation({ try store.verifyAudit() }) {
                throw CommandFailure("the audit log is broken (\(problem)); nothing was removed")
            }
            let deleted = try storeOperation {
                try store.trimAudit(through: newest.sequence, hash: newest.hash, now: Date(), context: CLIContext.audit)
            }
            print(
                "removed \(deleted) audit entr\(deleted == 1 ? "y" : "ies"); the log starts after entry \(newest.sequence) (checkpoint of \(newest.time))"
            )
        }
    }
}
