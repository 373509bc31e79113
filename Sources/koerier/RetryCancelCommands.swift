import ArgumentParser
import Foundation
import KoerierStore

struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Put a dead or blocked record (or with --dead, every dead record) back in the queue, due now.",
        discussion: """
            A blocked record (no consent, no S/MIME certificate) goes back once what it lacked is \
            there; if it is still lacking, the next attempt blocks it again. Every move is audited.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var control: ControlOptions

    @Flag(help: "Retry every dead record.")
    var dead = false

    @Argument(help: "The record id.")
    var id: Int64?

    func validate() throws {
        if dead == (id != nil) { throw ValidationError("give a record id or --dead, not both") }
    }

    func run() throws {
        try Output.reportingFailures {
            let configuration = try global.loadConfiguration()
            if let answer = try control.viaDaemon(configuration, dead ? "/v1/records/retry-dead" : "/v1/records/\(id!)/retry") {
                let moved = (answer["records"] as? [[String: Any]]) ?? [answer]
                for record in moved { print("\(record["record"] ?? "?") \(record["message"] ?? "?"): queued again") }
                if moved.isEmpty { print("no dead records") }
                return
            }
            let (_, store) = try global.openStore(configuration)
            let context = CLIContext.audit(onBehalfOf: control.onBehalfOf)
            let bar = ProgressBar("retry")
            let moved = try storeOperation {
                try dead
                    ? store.requeueDead(now: Date(), context: context) { bar.update($0, of: $1, detail: "dead records") }
                    : [store.transition(id!, Transition(to: .queued), now: Date(), context: context)]
            }
            for record in moved { print("\(record.id) \(record.messageID): queued again") }
            if moved.isEmpty { print("no dead records") }
        }
    }
}

struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a record that has not been sent yet.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var control: ControlOptions

    @Argument(help: "The record id.")
    var id: Int64

    func run() throws {
        try Output.reportingFailures {
            let configuration = try global.loadConfiguration()
            if let answer = try control.viaDaemon(configuration, "/v1/records/\(id)/cancel") {
                return print("\(answer["record"] ?? "?") \(answer["message"] ?? "?"): cancelled")
            }
            let (_, store) = try global.openStore(configuration)
            let record = try storeOperation {
                try store.transition(id, Transition(to: .cancelled), now: Date(), context: CLIContext.audit(onBehalfOf: control.onBehalfOf))
            }
            print("\(record.id) \(record.messageID): cancelled")
        }
    }
}
