import Foundation
import KoerierModel
import KoerierSecurity
import KoerierStore
import KoerierWorkflow
import KoerierXML

/// Answers a posted message with a signed receipt: parse and validate, verify the XML
/// signature, check that the TLS client, the signer and the envelope's sender are one
/// party and that the message is addressed to us, then hand it to `accept` (which must
/// store it durably) before answering `accepted`. A message that cannot be read at all
/// gets a 400 with the reason; a readable one that fails a check gets a `rejected` receipt.
public struct ReceiptingResponder: Sendable {
    let codec: MessageCodec
    public let verifier: SignatureVerifier
    let signing: MessageSigning
    /// Stores an accepted message durably together with the receipt that will answer it
    /// (nil for a receipt, which gets no receipt): one transaction, before the answer.
    let accept: @Sendable (Message, Data, VerifiedSigner, Data?) throws -> Void
    /// The receipt already given for a message id (a duplicate gets it again).
    let previousReceipt: @Sendable (MessageID) -> Data?
    /// Rejections and refusals, for the audit log: (message id if known, reason).
    let refused: @Sendable (String?, String) throws -> Void
    /// A message that arrived again and got its original receipt: every transmission is
    /// on record, not only the first.
    let repeated: @Sendable (MessageID) throws -> Void

    public init(
        codec: MessageCodec, verifier: SignatureVerifier, signing: MessageSigning,
        previousReceipt: @escaping @Sendable (MessageID) -> Data? = { _ in nil },
        refused: @escaping @Sendable (String?, String) throws -> Void = { _, _ in },
        repeated: @escaping @Sendable (MessageID) throws -> Void = { _ in },
        accept: @escaping @Sendable (Message, Data, VerifiedSigner, Data?) throws -> Void
    ) {
        self.codec = codec
        self.verifier = verifier
        self.signing = signing
        self.previousReceipt = previousReceipt
        self.refused = refused
        self.repeated = repeated
        self.accept = accept
    }

    /// The answer, for a test peer or bench that does not care which thread works it out.
    public func respond(_ request: InboundRequest) async -> ListenerAnswer { answer(request) }

    /// The answer, worked out on the caller's thread: parsing, signature checks, storing and
    /// signing block, so a daemon calls this on its executor (see `Gateway`).
    public func answer(_ request: InboundRequest) -> ListenerAnswer {
        let decoded: (message: Message, document: XMLDocument)
        do {
            decoded = try codec.decodeKeepingDocument(request.body)
        } catch {
            let first = error.problems.first.map { "line \($0.line): [\($0.rule)] \($0.message)" } ?? "unreadable"
            do { try refused(nil, "400 not a valid Koerier message: \(first)") } catch { return Self.auditUnavailable }
            return ListenerAnswer(status: 400, body: Data("not a valid Koerier message: \(first)\n".utf8))
        }
        let envelope = decoded.message.envelope
        /// The refusal on record first; an answer whose audit entry cannot be written is not given.
        func refusing(_ reason: String, _ answer: ListenerAnswer) -> ListenerAnswer {
            do { try refused(envelope.messageID.value, reason) } catch { return Self.auditUnavailable }
            return answer
        }
        // A message sent again gets the receipt it got the first time; the same id with
        // other bytes is refused (a message id names one message).
        func repeatAnswer(_ previous: Data) -> ListenerAnswer {
            do { try repeated(envelope.messageID) } catch { return Self.auditUnavailable }
            return ListenerAnswer(status: 200, body: previous)
        }
        func refuseReuse() -> ListenerAnswer {
            refusing(
                "rejected: the message id was already used for another message",
                ListenerAnswer(status: 409, body: Data("message id \(envelope.messageID) was already used for another message\n".utf8)))
        }
        func answerAgain(_ previous: Data) -> ListenerAnswer {
            Self.answers(previous, request.body, codec: codec) ? repeatAnswer(previous) : refuseReuse()
        }
        // The same bytes as a message already accepted are answered before any check that
        // may have changed since (a signer's certificate that expired or was revoked after
        // the letter arrived): they were verified when they were accepted, and a rejection
        // now would contradict the receipt the partner may already hold. Other bytes under
        // the id go through every check first.
        let previous = previousReceipt(envelope.messageID)
        if let previous, Self.answers(previous, request.body, codec: codec) { return repeatAnswer(previous) }
        // Receipts name this gateway as its own certificate does, never as the envelope said.
        let us: Party
        do {
            us = try ourParty(answering: envelope)
        } catch {
            return ListenerAnswer(status: 500, body: Data("cannot sign a receipt: \(error)\n".utf8))
        }
        func receipt(_ outcome: ReceiptOutcome) -> ListenerAnswer {
            if case .rejected(let code, let text) = outcome {
                do { try refused(envelope.messageID.value, "rejected \(code.rawValue): \(text)") } catch { return Self.auditUnavailable }
            }
            do {
                // Rejections are not kept: a rejected message sent again is judged again.
                let signed = try signing.receipt(answering: envelope, bytes: request.body, outcome: outcome, from: us)
                return ListenerAnswer(status: 200, body: signed)
            } catch {
                return ListenerAnswer(status: 500, body: Data("cannot sign a receipt: \(error)\n".utf8))
            }
        }
        let signer: VerifiedSigner
        do {
            signer = try verifier.verify(decoded.document)
            try verifier.requireSender(envelope.sender, matches: signer)
        } catch let error where error.isOurs {
            // Our CRL is stale or missing, or a library failed: the sender must try again
            // later, not be told its letter is rejected for good.
            return refusing(
                "503 cannot check the signature now: \(error)",
                ListenerAnswer(status: 503, body: Data("the signature cannot be checked now: send again later\n".utf8), retryAfter: 300))
        } catch {
            let code: RejectionCode =
                error.reason == .senderMismatch
                ? .senderMismatch
                : (error.reason == .untrustedChain || error.reason == .revoked ? .untrustedSender : .signatureInvalid)
            return receipt(.rejected(code: code, text: error.message))
        }
        if let problem = clientMismatch(request.clientCertificateDER, signer: signer) {
            return receipt(.rejected(code: .senderMismatch, text: problem))
        }
        if let ours = us.ura, envelope.receiver.ura != ours {
            return receipt(.rejected(code: .unknownReceiver, text: "this gateway is URA \(ours.value), not the envelope's receiver"))
        }
        if previous != nil { return refuseReuse() }
        // The acceptance is signed first, so that the message and the receipt that answers
        // it are stored in one transaction (one flush) before anything is answered.
        var acceptance: Data?
        if decoded.message.kind != .receipt {
            do {
                acceptance = try signing.receipt(answering: envelope, bytes: request.body, outcome: .accepted, from: us)
            } catch {
                return ListenerAnswer(status: 500, body: Data("cannot sign a receipt: \(error)\n".utf8))
            }
        }
        do {
            try accept(decoded.message, request.body, signer, acceptance)
        } catch is ReceiptAlreadyIssued {
            // Another copy got in between the look-up above and this store (two at once):
            // nothing of this one was stored; it is answered as the duplicate it is.
            guard let previous = previousReceipt(envelope.messageID) else {
                return ListenerAnswer(status: 503, body: Data("not stored, send again later\n".utf8), retryAfter: 1)
            }
            return answerAgain(previous)
        } catch let refusal as IntakeRefusal {
            return refusing(
                "\(refusal.status) \(refusal.reason)", ListenerAnswer(status: refusal.status, body: Data((refusal.reason + "\n").utf8)))
        } catch {
            return ListenerAnswer(status: 503, body: Data("not stored, send again later: \(error)\n".utf8))
        }
        // A receipt is not answered with another receipt.
        guard let acceptance else { return ListenerAnswer(status: 204, body: Data()) }
        return ListenerAnswer(status: 200, body: acceptance)
    }

    /// Whether a receipt kept for a message answers exactly these bytes (its digest).
    static func answers(_ receipt: Data, _ bytes: Data, codec: MessageCodec) -> Bool {
        guard case .receipt(let earlier)? = try? codec.decode(receipt) else { return false }
        return earlier.answeredDigest.value == ReceiptMatch.sha256Hex(bytes)
    }

    /// Every answer is audited first; one whose audit entry cannot be written is not given.
    static let auditUnavailable = ListenerAnswer(
        status: 503, body: Data("the audit log cannot be written now: send again later\n".utf8), retryAfter: 30)

    /// This gateway as the sender of its receipts: the URA (and AGB) its own certificate
    /// proves and the organisation it names; only the party type (which a certificate does
    /// not carry) is the envelope's. In test mode a certificate without an identifier
    /// answers as the envelope's receiver (TEST ONLY); outside it, such a gateway cannot
    /// sign receipts.
    func ourParty(answering envelope: Envelope) throws -> Party {
        try signing.ownParty(policy: verifier.identities, as: envelope.receiver)
    }

    /// The TLS client certificate must be the signer's party: the same URA (in test mode
    /// also AGB from the subject serialNumber). Only in test mode may two certificates
    /// without an identifier be matched by organisation name.
    private func clientMismatch(_ der: Data?, signer: VerifiedSigner) -> String? {
        guard let der, let client = Certificate.parsedOnce(der: der) else { return "no client certificate" }
        if let identifier = client.careIdentifier(verifier.identities) {
            return identifier.kind == signer.careIdentifierKind && identifier.value == signer.careIdentifier
                ? nil
                : "the TLS client (\(identifier.kind) \(identifier.value)) is not the signer (\(signer.careIdentifierKind ?? "") \(signer.careIdentifier ?? ""))"
        }
        guard verifier.identities.allowsTestIdentities else {
            return "the TLS client's certificate carries no UZI identity (subjectAltName otherName \(UZIName.typeID))"
        }
        return signer.careIdentifier == nil && client.subjectOrganisation == signer.organisation
            ? nil
            : "the TLS client '\(client.subjectOrganisation ?? "")' is not the signer '\(signer.organisation ?? "")'"
    }
}
