import Foundation
import KoerierModel
import KoerierSecurity
import KoerierXML

/// Answers a posted message with a signed receipt: parse and validate, verify the XML
/// signature, check that the TLS client, the signer and the envelope's sender are one
/// party and that the message is addressed to us, then hand it to `accept` (which must
/// store it durably) before answering `accepted`. A message that cannot be read at all
/// gets a 400 with the reason; a readable one that fails a check gets a `rejected` receipt.
public struct ReceiptingResponder: Sendable {
    let codec: MessageCodec
    let verifier: SignatureVerifier
    let signing: MessageSigning
    let accept: @Sendable (Message, Data, VerifiedSigner) async throws -> Void

    public init(codec: MessageCodec, verifier: SignatureVerifier, signing: MessageSigning,
                accept: @escaping @Sendable (Message, Data, VerifiedSigner) async throws -> Void) {
        self.codec = codec
        self.verifier = verifier
        self.signing = signing
        self.accept = accept
    }

    public func respond(_ request: InboundRequest) async -> ListenerAnswer {
        let decoded: (message: Message, document: XMLDocument)
        do {
            decoded = try codec.decodeKeepingDocument(request.body)
        } catch {
            let first = error.problems.first.map { "line \($0.line): [\($0.rule)] \($0.message)" } ?? "unreadable"
            return ListenerAnswer(status: 400, body: Data("not a valid Koerier message: \(first)\n".utf8))
        }
        let envelope = decoded.message.envelope
        func receipt(_ outcome: ReceiptOutcome) -> ListenerAnswer {
            do {
                return ListenerAnswer(status: 200, body: try signing.receipt(answering: envelope, bytes: request.body, outcome: outcome,
                                                                             from: envelope.receiver))
            } catch {
                return ListenerAnswer(status: 500, body: Data("cannot sign a receipt: \(error)\n".utf8))
            }
        }
        let signer: VerifiedSigner
        do {
            signer = try verifier.verify(decoded.document)
            try SignatureVerifier.requireSender(envelope.sender, matches: signer)
        } catch {
            let code: RejectionCode = error.reason == .senderMismatch ? .senderMismatch
                : (error.reason == .untrustedChain || error.reason == .revoked ? .untrustedSender : .signatureInvalid)
            return receipt(.rejected(code: code, text: error.message))
        }
        if let problem = clientMismatch(request.clientCertificateDER, signer: signer) {
            return receipt(.rejected(code: .senderMismatch, text: problem))
        }
        if let ours = signing.signer.identity.certificate.careIdentifier, ours.kind == "URA", envelope.receiver.ura?.value != ours.value {
            return receipt(.rejected(code: .unknownReceiver, text: "this gateway is URA \(ours.value), not the envelope's receiver"))
        }
        do {
            try await accept(decoded.message, request.body, signer)
        } catch {
            return ListenerAnswer(status: 503, body: Data("not stored, send again later: \(error)\n".utf8))
        }
        return receipt(.accepted)
    }

    /// The TLS client certificate must be the signer's organisation (same URA/AGB, or name).
    private func clientMismatch(_ der: Data?, signer: VerifiedSigner) -> String? {
        guard let der, let client = Certificate(der: der) else { return "no client certificate" }
        if let identifier = client.careIdentifier {
            return identifier.kind == signer.careIdentifierKind && identifier.value == signer.careIdentifier ? nil
                : "the TLS client (\(identifier.kind) \(identifier.value)) is not the signer (\(signer.careIdentifierKind ?? "") \(signer.careIdentifier ?? ""))"
        }
        return client.subjectOrganisation == signer.organisation ? nil
            : "the TLS client '\(client.subjectOrganisation ?? "")' is not the signer '\(signer.organisation ?? "")'"
    }
}
