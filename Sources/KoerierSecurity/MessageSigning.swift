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
