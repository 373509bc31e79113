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

    @Option(help: ArgumentHelp("Also verify signatures against these trust anchors (PEM bundle).", valueName: "ANCHORS.pem"))
    var trust: String?

    @Option(help: ArgumentHelp("Certificate revocation list (PEM), with --trust.", valueName: "CRL.pem"))
    var crl: String?

    @Argument(help: ArgumentHelp("Message files to check.", valueName: "FILE"))
    var files: [String]

    func run() throws {
        try Output.reportingFailures {
            let (_, codec) = try global.loadCodec()
            if crl != nil && trust == nil { throw CommandFailure("--crl needs --trust", exitCode: .configurationError) }
            if let trust {
                let verifier = try SignatureVerifier(trust: loadTrustStore(trust, crl: crl))
                var allValid = true
                for file in files {
                    switch verifyFile(file, codec: codec, verifier: verifier) {
                    case .success(let signer): if !quiet { print("\(file): valid, signed by \(signer)") }
                    case .failure(let failure):
                        allValid = false
                        failure.lines.forEach { print($0) }
                    }
                }
                if !allValid { throw ExitCode.failure }
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
