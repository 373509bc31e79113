import ArgumentParser
import Foundation
import KoerierDelivery
import KoerierSecurity
import KoerierStore
import KoerierWorkflow

struct ConsentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consent",
        abstract: "Record a new version of a trajectory's consent from a signed consent document.",
        discussion: """
            Consent is kept per trajectory and per party (directory id), versioned. A referral \
            records version 1 of its own trajectory when it arrives; a consent document from \
            the record system records the next version of the trajectory it names, while the \
            version it replaces is still in force. The document is JSON ({"document_id": UUID, \
            "trajectory": N, "replaces_version": V, "recorded_on": "YYYY-MM-DD", "parties": \
            ["directory-id", …]}) with a detached CMS signature (`openssl cms -sign -binary \
            -outform DER`) by one of trust.consent_signers (the record system's certificates, \
            never this gateway's own), of this centre's organisation, chained to trust.anchors \
            and not revoked; an empty list withdraws consent. \
            Every version is audited; letters waiting for a party it no longer names are \
            blocked at their next attempt.
            """,
        subcommands: [Import.self]
    )

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import", abstract: "Verify and record a consent document.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var control: ControlOptions
        @Argument(help: ArgumentHelp("The consent document (JSON).", valueName: "FILE"))
        var file: String
        @Option(help: ArgumentHelp("Its detached CMS signature (DER or PEM).", valueName: "FILE"))
        var signature: String

        func run() throws {
            try Output.reportingFailures {
                let configuration = try global.loadConfiguration()
                guard let content = FileManager.default.contents(atPath: file) else {
                    throw CommandFailure("\(file): cannot read the file")
                }
                guard let detached = FileManager.default.contents(atPath: signature) else {
                    throw CommandFailure("\(signature): cannot read the file")
                }
                let request = ["document": content.base64EncodedString(), "signature": detached.base64EncodedString()]
                let answer: [String: Any]?
                do {
                    answer = try control.viaDaemon(configuration, "/v1/consent", json: request)
                } catch let refusal as CommandFailure {
                    throw CommandFailure("\(file): no consent recorded: \(refusal.description)")
                }
                if let answer {
                    return Self.report(
                        trajectory: "\(answer["trajectory"] ?? "?")", version: "\(answer["version"] ?? "?")",
                        parties: answer["parties"] as? [String] ?? [])
                }
                let (_, store) = try global.openStore(configuration)
                guard let anchors = configuration.trustAnchors else {
                    throw CommandFailure(
                        "\(configuration.file.path): 'trust.anchors' is needed to check a consent document", exitCode: .configurationError)
                }
                let consent: ConsentImport
                do {
                    consent = try ConsentImport.configured(
                        configuration, store: store, directory: try RecipientDirectory.load(file: configuration.recipientsFile),
                        trust: try TrustStore(anchorsFile: anchors, crlFile: configuration.crl))
                } catch let refusal as ConsentImportError {
                    throw CommandFailure("\(refusal)", exitCode: .configurationError)
                }
                let version: ConsentVersion
                do {
                    version = try consent.record(content, signature: detached, context: CLIContext.audit(onBehalfOf: control.onBehalfOf))
                } catch let refusal as ConsentImportError {
                    throw CommandFailure("\(file): no consent recorded: \(refusal)")
                }
                Self.report(trajectory: "\(version.trajectoryID)", version: "\(version.version)", parties: version.grant.parties.sorted())
            }
        }

        static func report(trajectory: String, version: String, parties: [String]) {
            print(
                "trajectory \(trajectory): consent version \(version): " + (parties.isEmpty ? "no party" : parties.joined(separator: ", ")))
        }
    }
}
