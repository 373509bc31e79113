import Foundation
import KoerierDelivery
import KoerierFHIR
import KoerierModel
import KoerierSecurity
import KoerierStore
import KoerierXML

/// ZorgDomein-style referral Bundles: mapped to a Referral, put through the same schema and
/// rule gate as an XML referral (the mapped letter is what is stored: every other part of
/// Koerier reads it as any referral), correlated by ZD-number, and stored before the answer.
/// The first document of a ZD-number opens the trajectory; later ones attach to it; a
/// cancellation closes it. A Bundle id names one Bundle: the same bytes again get the same
/// answer, other bytes under the same id are refused. The Bundle's own bytes are not kept;
/// their SHA-256 is, with the answer.
public struct FHIRReferralIntake: Sendable {
    let store: any MessageStore
    let directory: RecipientDirectory
    let codec: MessageCodec
    /// This centre, as the referral's receiver.
    let centre: Party
    /// The base the Location header names: `{base}/Bundle/{id}`.
    let baseURL: String
    let limits: FHIRLimits
    let accessPoint: String

    public init(
        store: any MessageStore, directory: RecipientDirectory, codec: MessageCodec, centre: Party, baseURL: String,
        limits: FHIRLimits = .standard, accessPoint: String
    ) {
        self.store = store
        self.directory = directory
        self.codec = codec
        self.centre = centre
        self.baseURL = baseURL
        self.limits = limits
        self.accessPoint = accessPoint
    }

    /// An HTTP answer: 201 with Location, or a 4xx/5xx with an OperationOutcome.
    public struct Answer: Sendable {
        public let status: Int
        public let body: Data
        public let location: String?
        /// For the log and the audit: the rule that refused, or nil.
        public let refusal: String?

        /// The audit log cannot be written: nothing is answered but "later".
        public static let unavailable = Answer(
            status: 503,
            body: OperationOutcomeJSON.make([FHIRProblem(path: "Bundle", rule: "audit-unavailable", message: "send again later")]),
            location: nil, refusal: "audit-unavailable")
    }

    /// What was stored for a Bundle id, so that the same Bundle again gets the same answer.
    struct Stored: Codable {
        let sha256: String
        let location: String
    }

    /// Blocking (parsing, storing): the caller runs it on the store's executor.
    public func answer(_ body: Data, issuer: String, now: Date = Date()) -> Answer {
        let document: ZorgDomeinDocument
        do {
            document = try ZorgDomeinBundleReader.read(body, receiver: centre, limits: limits)
        } catch {
            return refuse(status: 422, error.problems, messageID: nil, now: now)
        }
        let messageID = document.referral.envelope.messageID
        let digest = ReceiptMatch.sha256Hex(body)
        let location = "\(baseURL)/Bundle/\(document.bundleID)"
        let audit = AuditContext(actor: "remote:\(issuer)", accessPoint: accessPoint)
        func unitOfWork() throws -> Answer {
            // The duplicate check and the storing are one unit of work: two copies of one
            // Bundle id arriving at once cannot both be stored, nor other bytes slip past.
            try store.groupedTransaction { tx in
                // Documents of one ZD-number one after the other: two opening ones arriving at
                // once must not open two trajectories.
                try tx.serialize(on: "zd:\(document.zdNumber.value)")
                if let previous = try tx.issuedReceipt(for: messageID.value) {
                    return try repeated(previous, digest: digest, messageID: messageID.value, audit: audit, in: tx, now: now)
                }
                return try accept(document, location: location, digest: digest, audit: audit, in: tx, now: now)
            }
        }
        do {
            do {
                return try unitOfWork()
            } catch is ReceiptAlreadyIssued {
                // A copy stored by another daemon (or connection) after this one looked: this
                // one stored nothing, and now finds that copy's answer.
                return try unitOfWork()
            }
        } catch let refusal as Refusal {
            return refuse(status: refusal.status, refusal.problems, messageID: messageID.value, now: now)
        } catch {
            return Answer(
                status: 503,
                body: OperationOutcomeJSON.make([FHIRProblem(path: "Bundle", rule: "not-stored", message: "not stored; send again later")]),
                location: nil, refusal: "not-stored")
        }
    }

    struct Refusal: Error {
        let status: Int
        let problems: [FHIRProblem]

        init(status: Int, problems: [FHIRProblem]) {
            self.status = status
            self.problems = problems
        }

        /// One problem, the usual case.
        init(_ status: Int, _ path: String, _ rule: String, _ message: String) {
            self.init(status: status, problems: [FHIRProblem(path: path, rule: rule, message: message)])
        }
    }

    /// A Bundle id seen before: the same bytes get the same answer (audited), other bytes 409.
    private func repeated(
        _ previous: Data, digest: String, messageID: String, audit: AuditContext, in tx: any StoreTransaction, now: Date
    ) throws -> Answer {
        guard let stored = try? JSONDecoder().decode(Stored.self, from: previous), stored.sha256 == digest else {
            throw Refusal(409, "Bundle.id", "bundle-id-reused", "this Bundle id was already used for another Bundle")
        }
        try tx.recordAudit(
            AuditEvent(
                kind: .receive, actor: audit.actor, messageID: messageID, accessPoint: accessPoint,
                outcome: "duplicate: FHIR Bundle answered as before"), now: now)
        return created(location: stored.location)
    }

    private func accept(
        _ document: ZorgDomeinDocument, location: String, digest: String, audit: AuditContext, in tx: any StoreTransaction, now: Date
    ) throws -> Answer {
        var referral = document.referral
        let zd = document.zdNumber.value
        let opened = try tx.trajectory(transactionID: zd)
        let reference = store.clientReferencer.reference(bsn: referral.patient.bsn.digits)
        let opens = opened == nil && (document.documentType == .appointmentRequest || document.documentType == .referralLetter)
        if !opens {
            guard let opened else {
                throw Refusal(
                    422, "Bundle.entry[0].resource.identifier", "follow-up-reference",
                    "a \(document.documentType.rawValue) needs an earlier document under the same ZD-number")
            }
            // A ZD-number belongs to one client's trajectory, and a closed one takes nothing more.
            guard reference == opened.clientReference else {
                throw Refusal(
                    422, "Bundle.entry[0].resource.subject", "follow-up-client",
                    "the document names another client than the trajectory its ZD-number opened")
            }
            if opened.closedAt != nil {
                throw Refusal(
                    409, "Bundle.entry[0].resource.identifier", "trajectory-closed",
                    "the trajectory of this ZD-number was cancelled; it takes no further documents")
            }
            referral.envelope.inReplyTo = try MessageID(opened.referralMessageID)
        }
        let bytes: Data
        do {
            bytes = try codec.encode(.referral(referral))
        } catch let problems as XMLProblems {
            // Schema messages may quote a value: only the field and the rule go back.
            throw Refusal(
                status: 422,
                problems: problems.problems.map {
                    FHIRProblem(
                        path: "Bundle(mapped: \($0.field ?? "referral"))", rule: $0.rule,
                        message: "the referral this Bundle maps to breaks this rule")
                })
        } catch {
            // Text no XML document may hold (control characters), say: the Bundle's own fault.
            throw Refusal(422, "Bundle", "unencodable", "the Bundle holds text no referral can carry")
        }
        let inbound = InboundMessage(
            messageID: referral.envelope.messageID, kind: .referral, sender: audit.actor, payload: bytes, clientReference: reference)
        if opens {
            let referrer = directory.recipients.values.first { Addressing.matches($0, referral.envelope.sender) }?.id
            _ = try tx.receiveReferral(
                inbound, referrerRecipientID: referrer, consent: ReferralConsent.grant(referral, directory: directory),
                transactionID: zd, now: now, context: audit)
        } else {
            _ = try tx.receiveProcessed(inbound, now: now, context: audit)
            if document.documentType == .cancellation, let opened {
                // As a phase completion does: a letter is not sent for a trajectory closing meanwhile.
                try tx.serialize(on: "trajectory:\(opened.id)")
                try tx.closeTrajectory(opened.id, reason: "cancelled by the referrer (ZorgDomein cancellation)", now: now, context: audit)
            }
        }
        let stored = Stored(sha256: digest, location: location)
        try tx.recordIssuedReceipt(try JSONEncoder().encode(stored), for: referral.envelope.messageID.value, now: now)
        return created(location: location)
    }

    private func created(location: String) -> Answer {
        let outcome: [String: Any] = [
            "resourceType": "OperationOutcome",
            "issue": [["severity": "information", "code": "informational", "diagnostics": "stored"]],
        ]
        let body = (try? JSONSerialization.data(withJSONObject: outcome, options: [.sortedKeys])) ?? Data()
        return Answer(status: 201, body: body, location: location, refusal: nil)
    }

    /// A request refused before its Bundle was read (media type, bearer token): audited too.
    public func refuseRequest(status: Int, _ problem: FHIRProblem, now: Date = Date()) -> Answer {
        refuse(status: status, [problem], messageID: nil, now: now)
    }

    private func refuse(status: Int, _ problems: [FHIRProblem], messageID: String?, now: Date) -> Answer {
        let rules = problems.map(\.rule).joined(separator: ",")
        // Every refusal is on record; one that cannot be recorded is not given.
        do {
            try store.recordAudit(
                AuditEvent(
                    kind: .receive, actor: "service:koerier-fhir-intake", messageID: messageID, accessPoint: accessPoint,
                    outcome: "refused \(status): \(rules.prefix(300))"), now: now)
        } catch {
            return .unavailable
        }
        return Answer(status: status, body: OperationOutcomeJSON.make(problems), location: nil, refusal: rules)
    }
}
