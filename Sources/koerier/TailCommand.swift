import ArgumentParser
import Foundation
import KoerierStore

struct TailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Follow the gateway's events live (the audit log: receive, enqueue, send, deliver, …).",
        discussion:
            "Prints the last --lines events, then each new one as it is written, until interrupted. No patient data: ids and outcomes."
    )
    @OptionGroup var global: GlobalOptions
    @Option(help: "Events to show first.") var lines = 10
    @Option(help: "Seconds between looks at the log.") var interval = 0.5
    @Flag(help: "Print what is there and exit.") var noFollow = false

    func run() throws {
        try Output.reportingFailures {
            let (_, store) = try global.openStore()
            var last: Int64 = 0
            func show(_ entries: [AuditEntry]) {
                for entry in entries.sorted(by: { $0.sequence < $1.sequence }) where entry.sequence > last {
                    let event = entry.event
                    let line =
                        "\(iso(entry.at))  \(event.kind.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(event.messageID ?? "-")  \(event.outcome)  [\(event.actor)]\n"
                    FileHandle.standardOutput.write(Data(line.utf8))  // unbuffered: a follower sees it at once
                    last = entry.sequence
                }
            }
            show(try storeOperation { try store.auditEntries(limit: lines) })
            while !noFollow {
                Thread.sleep(forTimeInterval: interval)
                show(try storeOperation { try store.auditEntries(limit: 1000) })
            }
        }
    }
}
