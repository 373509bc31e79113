import ArgumentParser
import Foundation
import KoerierConfig
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierStore
import KoerierWorkflow

struct TrajectoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trajectory",
        abstract: "Trajectories: opened by accepted referrals, one per client referral.",
        subcommands: [List.self, Show.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Trajectories, newest first.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputFormat
        @Option(help: "At most this many.") var limit = 50

        func run() throws {
            try Output.reportingFailures {
                let (_, store) = try global.openStore()
                let trajectories = try storeOperation { try store.trajectories(limit: limit) }
                if output.json { return try JSONOutput.print(trajectories.map(\.json)) }
                Table.print(
                    ["ID", "REFERRAL", "REFERRER", "PHASE", "OPENED"],
                    trajectories.map {
                        [
                            String($0.id), $0.referralMessageID, $0.referrerRecipientID ?? "(not in directory)",
                            $0.currentPhase ?? "-", iso($0.openedAt),
                        ]
                    })
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "One trajectory with its phase letters and their deliveries.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputFormat
        @Argument(help: "The trajectory id.") var id: Int64

        func run() throws {
            try Output.reportingFailures {
                let (_, store) = try global.openStore()
                guard let trajectory = try storeOperation({ try store.trajectory(id) }) else { throw CommandFailure("no trajectory \(id)") }
                let letters = try storeOperation { try store.phaseLetters(of: id) }
                let consent = try storeOperation { try store.consent(trajectory: id) }
                var object = trajectory.json
                object["consent"] = consent.map { $0.grant.parties.sorted() } ?? []
                object["consent_version"] = consent?.version ?? 0
                object["letters"] = try letters.map { letter -> [String: Any] in
                    let records = try store.records(sentOrQueuedMessageID: letter.messageID)
                    return [
                        "phase": letter.phase, "amendment": letter.amendment, "message_id": letter.messageID,
                        "created_at": iso(letter.createdAt),
                        "deliveries": records.map { ["recipient": $0.recipientID, "state": $0.state.rawValue] },
                    ]
                }
                if output.json { return try JSONOutput.print(object) }
                print(
                    "trajectory \(trajectory.id): referral \(trajectory.referralMessageID), referrer \(trajectory.referrerRecipientID ?? "(not in directory)")"
                )
                print(
                    "phase: \(trajectory.currentPhase ?? "none completed"); consent (version \(consent?.version ?? 0)): "
                        + ((object["consent"] as? [String]).map { $0.isEmpty ? "no party" : $0.joined(separator: ", ") } ?? "")
                )
                for letter in letters {
                    let records = try store.records(sentOrQueuedMessageID: letter.messageID)
                    print(
                        "  \(letter.phase)\(letter.amendment > 0 ? " (correction \(letter.amendment))" : "") \(letter.messageID): "
                            + records.map { "\($0.recipientID) \($0.state.rawValue)" }.joined(separator: ", "))
                }
            }
        }
    }
}

struct PhaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phase",
        abstract: "Phase events: a completed phase sends its return letter.",
        subcommands: [Complete.self]
    )

    struct Complete: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "complete",
            abstract: "Build, sign and queue the return letter for a completed phase.",
            discussion: """
                The letter is built from the trajectory (client, referrer, transaction, the referral \
                it answers) and the report (period, SOEP, measurements, goals, advice, next step; \
                JSON with snake_case keys, see Samples/phase-reports/). It goes to the \
                referring GP and to every other party the client's consent allows. Missing or \
                out-of-range data is refused before anything is queued. A phase completed before \
                sends nothing, unless --amend: then a correction of the earlier letter goes out.
                """
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var control: ControlOptions
        @Argument(help: "The trajectory id.") var trajectory: Int64
        @Option(help: "intake, fase-1, fase-2, fase-3 or afsluiting.") var phase: String
        @Option(help: ArgumentHelp("The practitioner's report (JSON).", valueName: "REPORT.json")) var report: String
        @Flag(help: "Send a correction of the letter this phase already sent.") var amend = false

        func run() throws {
            try Output.reportingFailures {
                guard let phaseValue = Phase(rawValue: phase) else {
                    throw CommandFailure("--phase: '\(phase)' is not one of \(Phase.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let (configuration, codec) = try global.loadCodec()
                guard let data = FileManager.default.contents(atPath: report) else {
                    throw CommandFailure("\(report): cannot read the file")
                }
                if let answer = try viaDaemon(configuration, report: data) {
                    print("letter \(answer["letter"] ?? "?") (\(phase)\(amend ? ", correction" : "")):")
                    for queued in answer["queued"] as? [[String: Any]] ?? [] {
                        print("  queued for \(queued["recipient"] ?? "?") as record \(queued["record"] ?? "?")")
                    }
                    for skipped in answer["skipped"] as? [[String: Any]] ?? [] {
                        print("  not for \(skipped["recipient"] ?? "?"): \(skipped["reason"] ?? "?")")
                    }
                    return
                }
                guard let identity = configuration.identity else {
                    throw CommandFailure("\(configuration.file.path): 'identity' is needed to sign letters", exitCode: .configurationError)
                }
                let (_, store) = try global.openStore(configuration)
                do {
                    let parsed = try PhaseReport.decode(data)
                    let signing = MessageSigning(
                        codec: codec,
                        signer: Signer(
                            identity: try SigningIdentity(
                                keyFile: identity.key, certificateFile: identity.certificate, chainFile: identity.chain)))
                    let completion = PhaseCompletion(
                        store: store, directory: try RecipientDirectory.load(file: configuration.recipientsFile),
                        codec: codec,
                        adapters: AdapterSet(signing: signing, formats: LetterFormatter(ediSender: configuration.delivery.ediAddress)))
                    let outcome = try completion.complete(
                        trajectory: trajectory, phase: phaseValue, report: parsed, amend: amend,
                        context: CLIContext.audit(onBehalfOf: control.onBehalfOf))
                    if !outcome.queued.isEmpty { Doorbell.ring(storePath: configuration.storePath.path) }
                    print("letter \(outcome.letterID) (\(phase)\(amend ? ", correction" : "")):")
                    for (recipient, record) in outcome.queued { print("  queued for \(recipient) as record \(record.id)") }
                    for (recipient, reason) in outcome.skipped { print("  not for \(recipient): \(reason)") }
                } catch let error as PhaseError {
                    throw CommandFailure("\(report): \(error.description)")
                }
            }
        }

        /// The report as the daemon takes it (the same JSON, over the control socket).
        private func viaDaemon(_ configuration: KoerierConfiguration, report data: Data) throws -> [String: Any]? {
            guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw CommandFailure("\(report): not a JSON object")
            }
            do {
                return try control.viaDaemon(
                    configuration, "/v1/trajectories/\(trajectory)/phases?phase=\(phase)\(amend ? "&amend=true" : "")", json: json)
            } catch let refusal as CommandFailure {
                throw CommandFailure("\(report): \(refusal.description)")
            }
        }
    }
}

extension TrajectoryRecord {
    var json: [String: Any] {
        [
            "id": id, "referral_message_id": referralMessageID, "transaction_id": transactionID,
            "referrer": referrerRecipientID as Any, "phase": currentPhase as Any, "opened_at": iso(openedAt), "updated_at": iso(updatedAt),
        ]
    }
}
