import Foundation
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierStore
import KoerierXML

/// A phase of a trajectory is complete: build the return letter from the trajectory and the
/// practitioner's report, sign it, and queue it for the referring GP (found in the
/// directory, never typed in) and for every party the trajectory's consent names
/// (their adapters decide what they see). Nothing is queued unless the whole letter passes
/// the schema and rule gate. A phase completed before sends nothing again, unless it is an
/// amendment, which goes out as a correction of the earlier letter.
public struct PhaseCompletion: Sendable {
    let store: any MessageStore
    let directory: RecipientDirectory
    let codec: MessageCodec
    let adapters: AdapterSet
    var signing: MessageSigning { adapters.signing }

    public init(store: any MessageStore, directory: RecipientDirectory, codec: MessageCodec, adapters: AdapterSet) {
        self.store = store
        self.directory = directory
        self.codec = codec
        self.adapters = adapters
    }

    /// Without recipients in other formats (MEDVRI needs this centre's EDI address).
    public init(store: any MessageStore, directory: RecipientDirectory, codec: MessageCodec, signing: MessageSigning) {
        self.init(store: store, directory: directory, codec: codec, adapters: AdapterSet(signing: signing))
    }

    public struct Outcome: Sendable {
        public let letterID: String
        public let queued: [(recipient: String, record: OutboundRecord)]
        public let skipped: [(recipient: String, reason: String)]
    }

    /// One unit of work: the check that the phase was not completed yet, the audited read of
    /// the referral, the letters queued and the phase recorded commit together or not at all.
    public func complete(
        trajectory id: Int64, phase: Phase, report: PhaseReport, amend: Bool, context: AuditContext,
        now: Date = Date()
    ) throws -> Outcome {
        try store.transaction { tx in
            try complete(in: tx, trajectory: id, phase: phase, report: report, amend: amend, context: context, now: now)
        }
    }

    private func complete(
        in store: any StoreTransaction, trajectory id: Int64, phase: Phase, report: PhaseReport, amend: Bool, context: AuditContext,
        now: Date
    ) throws -> Outcome {
        // Two completions of one trajectory at once (two daemons, or two ops): the second must
        // see the first's letter, not pick the same amendment and be dropped as its duplicate.
        try store.serialize(on: "trajectory:\(id)")
        guard let trajectory = try store.trajectory(id) else { throw PhaseError("no trajectory \(id)") }
        if trajectory.closedAt != nil {
            throw PhaseError("trajectory \(id) was closed (\(trajectory.closedReason ?? "closed")); nothing sent")
        }
        let earlier = try store.phaseLetters(of: id).filter { $0.phase == phase.rawValue }
        if !amend, let first = earlier.first {
            throw PhaseError(
                "trajectory \(id): \(phase.rawValue) was already completed (letter \(first.messageID)); nothing sent. "
                    + "Use --amend to send a correction")
        }
        if amend && earlier.isEmpty { throw PhaseError("trajectory \(id): \(phase.rawValue) has no letter to amend yet") }
        let content = try report.clinicalContent()
        let referralBytes = try store.inboundPayload(trajectory.referralMessageID, now: now, context: context)
        guard case .referral(let referral) = try codec.decode(referralBytes) else {
            throw PhaseError("trajectory \(id): its referral is unreadable")
        }
        // The referrer as found at intake, or (added to the directory since) found now.
        guard
            let referrer = trajectory.referrerRecipientID.flatMap({ directory[$0] })
                ?? directory.recipients.values.first(where: { Addressing.matches($0, referral.envelope.sender) })
        else {
            throw PhaseError(
                "trajectory \(id): its referrer is not in the recipient directory; add the practice (its URA, or its AGB if its letters name no URA) first"
            )
        }

        let amendment = earlier.count
        var sender = referral.envelope.receiver
        sender.practitioner = report.practitioner ?? sender.practitioner
        let letter = ReturnLetter(
            envelope: Envelope(
                messageID: DerivedMessageID.make(
                    from: referral.envelope.messageID, recipient: "\(phase.rawValue)#\(amendment)",
                    purpose: "return letter"),
                transactionID: referral.envelope.transactionID,
                created: Timestamp(instant: now, timeZone: TimeZone(identifier: "Europe/Amsterdam") ?? .current),
                documentKind: amend ? .terugkoppelingCorrectie : .terugkoppeling,
                sender: sender, receiver: referral.envelope.sender, inReplyTo: referral.envelope.messageID),
            patient: referral.patient, phase: phase, period: content.period,
            corrects: amend ? earlier.last.flatMap { try? MessageID($0.messageID) } : nil,
            soep: content.soep, measurements: content.measurements, goals: content.goals,
            adviceToReferrer: report.adviceToReferrer, nextStep: report.nextStep)
        let signed: Data
        do {
            signed = try signing.signedXML(.returnLetter(letter))
        } catch let problems as XMLProblems {
            throw PhaseError(
                "the letter is not valid; nothing queued:\n"
                    + problems.problems.map { "  report → letter line \($0)" }.joined(separator: "\n"))
        }

        // Only parties the trajectory's consent names, and only as the version in force says.
        let consent = try store.consent(trajectory: id)
        let allowed = consent?.grant.parties ?? []
        var targets: [Recipient] = [referrer]
        var skipped: [(String, String)] = []
        if let named = report.recipients {
            for recipientID in named where recipientID != referrer.id {
                guard let recipient = directory[recipientID] else {
                    throw PhaseError("recipients: no '\(recipientID)' in the recipient directory")
                }
                guard allowed.contains(recipientID) else {
                    throw PhaseError(
                        "recipients: '\(recipientID)' is not a party trajectory \(id)'s consent"
                            + (consent.map { " (version \($0.version))" } ?? "") + " names; nothing queued")
                }
                targets.append(recipient)
            }
        } else {
            for party in allowed.sorted() where party != referrer.id {
                guard let recipient = directory[party] else {
                    skipped.append((party, "consented party no longer in the recipient directory"))
                    continue
                }
                targets.append(recipient)
            }
        }
        // Every recipient's copy is built and signed now, and queued with the rest of this step.
        let queue = LetterQueue(adapters: adapters)
        let outbound = try targets.map {
            try queue.outbound(.returnLetter(letter), bytes: signed, to: $0, urgency: .routine, clientReference: trajectory.clientReference)
        }
        let queued = zip(outbound, try store.enqueueBatch(outbound, now: now, context: context)).map { ($0.recipientID, $1.record) }
        try store.recordPhaseLetter(
            PhaseLetter(
                trajectoryID: id, phase: phase.rawValue, amendment: amendment,
                messageID: letter.envelope.messageID.value, createdAt: now), now: now, context: context)
        return Outcome(letterID: letter.envelope.messageID.value, queued: queued, skipped: skipped)
    }
}
