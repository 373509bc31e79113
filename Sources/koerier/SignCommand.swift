import ArgumentParser
import Foundation
import KoerierSecurity
import KoerierXML

struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a message with an enveloped XML Signature (RSA-SHA256 or ECDSA-P256-SHA256).",
        discussion: "The message is validated first; an invalid message is not signed. The private key is never printed."
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Private key (PEM).", valueName: "KEY.pem"))
    var key: String

    @Option(help: ArgumentHelp("The signer's certificate (PEM).", valueName: "CERT.pem"))
    var cert: String

    @Option(help: ArgumentHelp("Intermediate certificates to include (PEM).", valueName: "CHAIN.pem"))
    var chain: String?

    @Option(help: ArgumentHelp("Where to write the signed message (default: stdout).", valueName: "OUT"))
    var out: String?

    @Argument(help: ArgumentHelp("The message to sign.", valueName: "FILE"))
    var file: String

    func run() throws {
        try Output.reportingFailures {
            let (_, codec) = try global.loadCodec()
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CommandFailure("\(file): cannot read the file")
            }
            let document: XMLDocument
            do throws(XMLProblems) {
                document = try codec.decodeKeepingDocument(data).document
            } catch {
                for problem in error.problems { Output.error("\(file):\(problem)") }
                throw CommandFailure("\(file): not signed: the message is invalid")
            }
            let signed: Data
            do {
                let identity = try SigningIdentity(
                    keyFile: URL(fileURLWithPath: key), certificateFile: URL(fileURLWithPath: cert),
                    chainFile: chain.map { URL(fileURLWithPath: $0) })
                signed = try Signer(identity: identity).sign(document)
            } catch {
                throw CommandFailure("\(file): not signed: \(error)")
            }
            if let out {
                do {
                    try signed.write(to: URL(fileURLWithPath: out), options: .atomic)
                } catch {
                    throw CommandFailure("\(out): cannot write the signed message: \(error.localizedDescription)")
                }
            } else {
                FileHandle.standardOutput.write(signed)
            }
        }
    }
}
