import ArgumentParser
import Foundation
import KoerierStore

struct InboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inbox",
        abstract: "The inbound queue: messages that arrived, newest first (no content; `--state` filters).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputFormat
    @Option(help: "received, processed or rejected.") var state: String?
    @Option(help: "At most this many.") var limit = 50

    func run() throws {
        try Output.reportingFailures {
            let filter: InboundState? = try state.map {
                guard let value = InboundState(rawValue: $0) else {
                    throw CommandFailure("--state: '\($0)' is not received, processed or rejected")
                }
                return value
            }
            let (_, store) = try global.openStore()
            let records = try storeOperation { try store.inbound(state: filter, limit: limit) }
            if output.json {
                return try JSONOutput.print(
                    records.map {
                        [
                            "message_id": $0.messageID, "kind": $0.kind, "sender": $0.sender, "state": $0.state.rawValue,
                            "reason": $0.reason as Any, "received_at": iso($0.receivedAt),
                        ]
                    })
            }
            Table.print(
                ["MESSAGE", "KIND", "SENDER", "STATE", "RECEIVED"],
                records.map {
                    [$0.messageID, $0.kind, $0.sender, $0.state.rawValue + ($0.reason.map { ": \($0)" } ?? ""), iso($0.receivedAt)]
                })
        }
    }
}
