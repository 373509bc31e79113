import Foundation
import KoerierModel
import KoerierXML

/// Writes a model message as XML, validated, and signs it: how Koerier produces every
/// message of its own (derived notices, receipts, phase letters).
public struct MessageSigning: Sendable {
    public let codec: MessageCodec
    public let signer: Signer

    public init(codec: MessageCodec, signer: Signer) {
        self.codec = codec
        self.signer = signer
    }

    public func signedXML(_ message: Message) throws -> Data {
        // Written, then read back through the full gate (schema and rules) once: nothing
        // invalid is ever signed.
        let unsigned = try codec.encode(message, verify: false)
        let document = try codec.decodeKeepingDocument(unsigned).document
        return try signer.sign(document)
    }

    /// A signed receipt answering `envelope`'s message, whose exact bytes were `original`:
    /// addressed back to its sender, from `receiver` (this gateway's party).
    public func receipt(
        answering envelope: Envelope, bytes original: Data, outcome: ReceiptOutcome, from receiver: Party,
        now: Date = Date()
    ) throws -> Data {
        let receipt = Receipt(
            envelope: Envelope(
                messageID: .generate(), transactionID: envelope.transactionID,
                created: Timestamp(instant: now, timeZone: TimeZone(identifier: "Europe/Amsterdam") ?? .current),
                documentKind: .ontvangstbevestiging, sender: receiver, receiver: envelope.sender,
                inReplyTo: envelope.messageID),
            answeredMessageID: envelope.messageID, answeredDigest: try SHA256Hex(ReceiptMatch.sha256Hex(original)),
            outcome: outcome, receivedAt: Timestamp(instant: now, timeZone: TimeZone(identifier: "Europe/Amsterdam") ?? .current))
        return try signedXML(.receipt(receipt))
    }
}

extension MessageSigning {
    /// This gateway as its own certificate names it: the URA (and AGB) it proves and the
    /// organisation it names; the party type (which a certificate does not carry) and, for
    /// a certificate without an identifier in test mode (TEST ONLY), everything else come
    /// from `expected`. Outside test mode such a gateway has no party and cannot answer.
    public func ownParty(policy: IdentityPolicy, as expected: Party) throws -> Party {
        let certificate = signer.identity.certificate
        guard let identifier = certificate.careIdentifier(policy) else {
            guard policy.allowsTestIdentities else {
                throw IdentityProblem("this gateway's certificate carries no UZI identity (subjectAltName otherName \(UZIName.typeID))")
            }
            return expected
        }
        var ura: URANumber?
        var agb = try certificate.uziName?.agb.map { try AGBCode($0) }
        if identifier.kind == "URA" { ura = try URANumber(identifier.value) } else { agb = try AGBCode(identifier.value) }
        return Party(type: expected.type, organisation: certificate.subjectOrganisation ?? expected.organisation, agb: agb, ura: ura)
    }
}

public struct IdentityProblem: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
