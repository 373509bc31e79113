import ArgumentParser
import Foundation
import KoerierStore

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List outbound records, newest first (no payloads).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputFormat

    @Option(help: "Only this state (\(DeliveryState.allCases.map(\.rawValue).joined(separator: ", "))).")
    var state: String?

    @Option(help: "Only this recipient type (huisarts, bedrijfsarts, ggz, werkgever, sociaal-domein).")
    var recipient: String?

    @Option(help: ArgumentHelp("Only records created since (YYYY-MM-DD or timestamp).", valueName: "T"))
    var since: String?

    @Option(help: "At most this many records.")
    var limit = 50

    func run() throws {
        try Output.reportingFailures {
            let filter = try state.map { name -> DeliveryState in
                guard let state = DeliveryState(rawValue: name) else {
                    throw CommandFailure("--state: unknown state '\(name)'", exitCode: .configurationError)
                }
                return state
            }
            let from = try since.map { try parseMoment($0, option: "--since") }
            let (_, store) = try global.openStore()
            let records = try storeOperation { try store.records(state: filter, recipientType: recipient, since: from, limit: limit) }
            if output.json {
                try JSONOutput.print(records.map(\.json))
                return
            }
            Table.print(
                ["ID", "MESSAGE", "KIND", "RECIPIENT", "TYPE", "URGENCY", "STATE", "TRIES", "UPDATED", "LAST ERROR"],
                records.map {
                    [
                        String($0.id), $0.messageID, $0.kind, $0.recipientID, $0.recipientType, $0.urgency.rawValue, $0.state.rawValue,
                        String($0.attempts), iso($0.updatedAt), $0.lastError ?? "",
                    ]
                })
        }
    }
}
