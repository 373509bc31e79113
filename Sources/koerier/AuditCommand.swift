import ArgumentParser
import Foundation
import KoerierStore

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The NEN 7513 audit log: list entries, verify the hash chain.",
        subcommands: [AuditListCommand.self, AuditVerifyCommand.self])
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

    func run() throws {
        try Output.reportingFailures {
            let (_, store) = try global.openStore()
            if let problem = try storeOperation({ try store.verifyAudit() }) {
                print("audit log broken: \(problem)")
                throw ExitCode.failure
            }
            print("audit log intact")
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
            let count = try storeOperation { try store.purge(deliveredBefore: before, now: Date(), context: CLIContext.audit) }
            print("purged \(count) record(s) delivered before \(iso(before))")
        }
    }
}
