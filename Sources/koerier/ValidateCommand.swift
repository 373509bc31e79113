import ArgumentParser
import Foundation
import KoerierSecurity
import KoerierXML

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check messages: well-formed, safe, schema-valid, and the rules beyond the schema.",
        discussion: """
            Prints one line per valid file ("FILE: valid KIND") and one line per problem \
            ("FILE:LINE: FIELD: message [rule]"). With --trust, every file must also carry a \
            signature that verifies against those anchors (as koerier verify checks it). Exits 0 \
            when every file is valid, 1 when any is not, 2 when the configuration, schemas or \
            anchors cannot be loaded.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(name: .shortAndLong, help: "Print only problems, not the valid files.")
    var quiet = false

    @OptionGroup var trustOptions: TrustOptions

    @Argument(help: ArgumentHelp("Message files to check.", valueName: "FILE"))
    var files: [String]

    func run() throws {
        try Output.reportingFailures {
            let (_, codec) = try global.loadCodec()
            // With --trust, signatures are required too (no fallback to the configuration:
            // plain validation must not demand a signature).
            if let verifier = try trustOptions.verifier(fallback: nil) {
                let quiet = self.quiet
                if !verifyAll(files, codec: codec, verifier: verifier, success: { quiet ? nil : "\($0): valid, signed by \($1)" }) {
                    throw ExitCode.failure
                }
                return
            }
            var allValid = true
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else {
                    print("\(file): cannot read the file (missing, a directory, or not readable) [read]")
                    allValid = false
                    continue
                }
                do throws(XMLProblems) {
                    let message = try codec.decode(data)
                    if !quiet { print("\(file): valid \(message.kind.rawValue)") }
                } catch {
                    allValid = false
                    for problem in error.problems { print("\(file):\(problem)") }
                }
            }
            if !allValid { throw ExitCode.failure }
        }
    }
}
