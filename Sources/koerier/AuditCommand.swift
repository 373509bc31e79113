import ArgumentParser
import Foundation
import KoerierConfig
import KoerierSecurity
import KoerierStore
import KoerierWorkflow

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The NEN 7513 audit log: list entries, verify the HMAC chain, write signed checkpoints, trim old entries.",
        subcommands: [AuditListCommand.self, AuditVerifyCommand.self, AuditCheckpointCommand.self, AuditTrimCommand.self])
}

struct AuditListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The newest audit entries.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputFormat

    @Option(help: "At most this many entries.")
    var limit = 50

    func run() throws {
        try Output.reportingFailures {
            let (_, store) = try global.openStore()
            let entries = try storeOperation { try store.auditEntries(limit: limit) }
            if output.json {
                try JSONOutput.print(
                    entries.map { entry -> [String: Any] in
                        var object: [String: Any] = [
                            "sequence": entry.sequence, "at": iso(entry.at), "event": entry.event.kind.rawValue,
                            "actor": entry.event.actor, "access_point": entry.event.accessPoint,
                            "outcome": entry.event.outcome, "hash": entry.hash,
                        ]
                        object["on_behalf_of"] = entry.event.onBehalfOf
                        object["client_ref"] = entry.event.clientReference
                        object["message_id"] = entry.event.messageID
                        return object
                    })
                return
            }
            Table.print(
                ["SEQ", "AT", "EVENT", "ACTOR", "ON BEHALF OF", "CLIENT", "MESSAGE", "FROM", "OUTCOME"],
                entries.map {
                    [
                        String($0.sequence), iso($0.at), $0.event.kind.rawValue, $0.event.actor, $0.event.onBehalfOf ?? "",
                        $0.event.clientReference ?? "", $0.event.messageID ?? "", $0.event.accessPoint, $0.event.outcome,
                    ]
                })
        }
    }
}

struct AuditVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check the hash chain: exit 0 when whole, 1 naming the first changed, removed or reordered entry.")

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Also check the signed checkpoints in this file (or a syslog file holding them).", valueName: "FILE"))
    var checkpoints: String?

    func run() throws {
        try Output.reportingFailures {
            let (configuration, store) = try global.openStore()
            if let problem = try storeOperation({ try store.verifyAudit() }) {
                print("audit log broken: \(problem)")
                throw ExitCode.failure
            }
            if let checkpoints {
                let (lines, certificate) = try CheckpointFile.read(checkpoints, configuration: configuration)
                let problems = try storeOperation {
                    try AuditCheckpoint.problems(in: lines, store: store, certificate: certificate)
                }
                if !problems.isEmpty {
                    for problem in problems { print("audit log broken: \(problem)") }
                    throw ExitCode.failure
                }
                print("audit log intact, and it matches every checkpoint in \(checkpoints)")
                return
            }
            print("audit log intact")
        }
    }
}

/// A file of signed checkpoints and the certificate that must have signed them.
enum CheckpointFile {
    static func read(_ file: String, configuration: KoerierConfiguration) throws -> (lines: [String], certificate: Certificate) {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw CommandFailure("\(file): cannot read the checkpoints")
        }
        guard let identity = configuration.identity, let certificate = DetachedSignature.certificate(file: identity.certificate) else {
            throw CommandFailure("checking checkpoints needs 'identity.certificate'", exitCode: .configurationError)
        }
        return (text.components(separatedBy: "\n"), certificate)
    }
}

struct AuditCheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Write the audit log's head (sequence, hash, time), signed with the gateway's key, outside the store.",
        discussion: """
            Run it from cron. Keep the file where the store's writers cannot change it (another \
            machine, write-once storage), or send it to syslog; `audit verify --checkpoints FILE` \
            then finds a log that was rewritten, even by someone holding the chain's key.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Append the checkpoint line to this file (made mode 600).", valueName: "FILE"))
    var file: String?

    @Flag(help: "Send the checkpoint line to syslog (authpriv.notice).")
    var syslog = false

    func run() throws {
        try Output.reportingFailures {
            guard file != nil || syslog else { throw CommandFailure("say where the checkpoint goes: --file FILE, --syslog, or both") }
            let (configuration, store) = try global.openStore()
            guard let identity = configuration.identity else {
                throw CommandFailure("signing a checkpoint needs 'identity.key'", exitCode: .configurationError)
            }
            let line = try storeOperation { try AuditCheckpoint.line(store: store, keyFile: identity.key) }
            if let file {
                if !FileManager.default.fileExists(atPath: file) {
                    FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o600])
                }
                guard let handle = FileHandle(forWritingAtPath: file) else { throw CommandFailure("\(file): cannot write the checkpoint") }
                try handle.seekToEnd()
                try handle.write(contentsOf: Data((line + "\n").utf8))
                try handle.synchronize()
                try handle.close()
            }
            if syslog {
                openlog("koerier", LOG_PID, LOG_AUTHPRIV)
                line.withCString { text in withVaList([text]) { vsyslog(LOG_AUTHPRIV | LOG_NOTICE, "%s", $0) } }
                closelog()
            }
            print(line)
        }
    }
}

struct PurgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge", abstract: "Retention: remove delivered and acknowledged records last changed before a date (audited).")

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Remove records delivered before this moment (YYYY-MM-DD or timestamp).", valueName: "T"))
    var deliveredBefore: String

    func run() throws {
        try Output.reportingFailures {
            let before = try parseMoment(deliveredBefore, option: "--delivered-before")
            let (_, store) = try global.openStore()
            let bar = ProgressBar("purge")
            let count = try storeOperation {
                try store.purge(deliveredBefore: before, now: Date(), context: CLIContext.audit) {
                    bar.update($0, of: nil, detail: "records")
                }
            }
            bar.finish()
            print("purged \(count) record(s) delivered before \(iso(before))")
        }
    }
}
