import ArgumentParser
import Foundation
import KoerierDelivery
import KoerierSecurity
import KoerierStore

struct ReceiptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipt",
        abstract: "Accept a signed receipt that arrived on its own (after mail delivery).",
        discussion: """
            The receipt is verified (signature, trusted chain, sender = signer), matched to the \
            delivered record by the message id and SHA-256 it answers, and must come from that \
            record's recipient; the record becomes acknowledged (or dead, if the receipt rejects it).
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The receipt (signed XML).", valueName: "FILE"))
    var file: String

    func run() throws {
        try Output.reportingFailures {
            let (configuration, codec) = try global.loadCodec()
            guard let data = FileManager.default.contents(atPath: file) else { throw CommandFailure("\(file): cannot read the file") }
            guard let anchors = configuration.trustAnchors else {
                throw CommandFailure(
                    "\(configuration.file.path): 'trust.anchors' is needed to check receipts", exitCode: .configurationError)
            }
            let (_, store) = try global.openStore(configuration)
            do {
                let intake = ReceiptIntake(
                    store: store, directory: try RecipientDirectory.load(file: configuration.recipientsFile),
                    receipts: ReceiptCheck(
                        codec: codec,
                        verifier: SignatureVerifier(
                            trust: try TrustStore(anchorsFile: anchors, crlFile: configuration.crl),
                            identities: IdentityPolicy(testMode: configuration.testMode))))
                let record = try intake.accept(data, context: CLIContext.audit)
                print("\(record.id) \(record.messageID): \(record.state.rawValue)")
            } catch {
                throw CommandFailure("\(file): receipt not accepted: \(error)")
            }
        }
    }
}
