import ArgumentParser
import Foundation
import KoerierDelivery
import KoerierModel
import KoerierStore
import KoerierXML

struct EnqueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Validate a message and queue it for one recipient; an invalid message is refused.",
        discussion: """
            The recipient must be in the recipient directory, which gives its type. Enqueueing the same message for \
            the same recipient twice stores one record. Nothing is reported as queued before it is \
            durably stored.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The recipient's id (its entry in the recipient directory).", valueName: "RECIPIENT_ID"))
    var to: String

    @Argument(help: ArgumentHelp("The message file (signed XML as it will be sent).", valueName: "FILE"))
    var file: String

    func run() throws {
        try Output.reportingFailures {
            let (configuration, codec) = try global.loadCodec()
            let (data, message) = try global.readMessage(file, codec: codec, refusal: "not queued")
            let directory: RecipientDirectory
            do {
                directory = try RecipientDirectory.load(file: configuration.recipientsFile)
            } catch {
                throw CommandFailure("\(error)", exitCode: .configurationError)
            }
            guard let recipient = directory[to] else {
                throw CommandFailure("\(file): not queued: no recipient '\(to)' in \(configuration.recipientsFile.path)")
            }
            // The directory, not the envelope, says what the recipient is: its adapter
            // decides at delivery what of this message it may see.
            let type = recipient.type
            let (_, store) = try global.openStore(configuration)
            let bsn: String? = {
                switch message {
                case .referral(let referral): return referral.patient.bsn.digits
                case .returnLetter(let letter): return letter.patient.bsn.digits
                default: return nil
                }
            }()
            let urgency: Urgency = { if case .referral(let referral) = message { return referral.urgency } else { return .routine } }()
            let outbound = try DeliveryAssembly.letterQueue(configuration: configuration, codec: codec).outbound(
                message, bytes: data, to: recipient, urgency: urgency,
                clientReference: bsn.map { store.clientReferencer.reference(bsn: $0) })
            let outcome = try storeOperation { try store.enqueue(outbound, now: Date(), context: CLIContext.audit) }
            switch outcome {
            case .stored(let record):
                Doorbell.ring(storePath: configuration.storePath.path)
                print("\(record.id) \(record.messageID): queued for \(to) (\(type.rawValue))")
            case .duplicate(let record):
                print("\(record.id) \(record.messageID): already queued for \(to) (\(record.state.rawValue)); nothing stored")
            }
        }
    }
}
