import ArgumentParser
import Foundation
import KoerierModel
import KoerierStore
import KoerierXML

struct ConsentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consent",
        abstract: "Record a client's consent (which recipient types may hear about them) from a referral.",
        discussion: """
            Reads the referral's consent record (validated first) and stores it under the client's \
            pseudonymous reference; the delivery adapters read it before anything goes to a \
            bedrijfsarts, ggz, werkgever or sociaal-domein recipient. A later referral replaces it.
            """,
        subcommands: [Import.self]
    )

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import", abstract: "Record the consent in a referral.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The referral (XML).", valueName: "FILE"))
        var file: String

        func run() throws {
            try Output.reportingFailures {
                let (configuration, codec) = try global.loadCodec()
                let (_, message) = try global.readMessage(file, codec: codec, refusal: "no consent recorded")
                guard case .referral(let referral) = message else {
                    throw CommandFailure("\(file): no consent recorded: a \(message.kind.rawValue) carries no consent record")
                }
                let (_, store) = try global.openStore(configuration)
                let reference = store.clientReferencer.reference(bsn: referral.patient.bsn.digits)
                try storeOperation {
                    try store.recordConsent(
                        ConsentRecord(
                            clientReference: reference, allowed: Set(referral.consent.allowed),
                            recordedOn: referral.consent.recordedOn.description,
                            sourceMessageID: referral.envelope.messageID.value),
                        now: Date(), context: CLIContext.audit)
                }
                let allowed = referral.consent.allowed.map(\.rawValue).sorted()
                print("consent recorded for client \(reference): \(allowed.isEmpty ? "none" : allowed.joined(separator: ", "))")
            }
        }
    }
}
