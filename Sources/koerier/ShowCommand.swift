import ArgumentParser
import Foundation
import KoerierStore

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one outbound record; --payload prints the decrypted message (an audited read).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputFormat

    @Flag(help: "Also print the decrypted payload. The read is written to the audit log.")
    var payload = false

    @Argument(help: "The record id (see koerier list).")
    var id: Int64

    func run() throws {
        try Output.reportingFailures {
            let (_, store) = try global.openStore()
            guard let record = try storeOperation({ try store.record(id) }) else { throw CommandFailure("no record \(id)") }
            let body = payload ? try storeOperation { try store.payload(of: id, now: Date(), context: CLIContext.audit) } : nil
            if output.json {
                var object = record.json
                object["payload"] = body.map { String(decoding: $0, as: UTF8.self) }
                try JSONOutput.print(object)
                return
            }
            for key in record.json.keys.sorted() { print("\(key): \(record.json[key]!)") }
            if let body {
                print("")
                print(String(decoding: body, as: UTF8.self))
            }
        }
    }
}
