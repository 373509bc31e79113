import Foundation
import KoerierModel
import KoerierSecurity
import KoerierStore
import KoerierXML

/// A receipt that answered a delivery, checked: valid, signed by a trusted party that is
/// its envelope's sender, and about exactly the bytes that were sent.
public struct CheckedReceipt: Sendable {
    public let receipt: Receipt
    public let signer: VerifiedSigner
}

public struct ReceiptCheck: Sendable {
    let codec: MessageCodec
    /// The configured trust (anchors and CRL), shared with intake.
    public let verifier: SignatureVerifier

    public init(codec: MessageCodec, verifier: SignatureVerifier) {
        self.codec = codec
        self.verifier = verifier
    }

    /// Checks signature and sender; matching it to what was sent is `require(_:answers:)`.
    public func check(_ bytes: Data) throws -> CheckedReceipt {
        let decoded: (message: Message, document: XMLDocument)
        do {
            decoded = try codec.decodeKeepingDocument(bytes)
        } catch {
            throw DeliveryFailure("the answer is not a valid receipt: \(error.problems.first.map { "\($0)" } ?? "invalid XML")")
        }
        guard case .receipt(let receipt) = decoded.message else {
            throw DeliveryFailure("the answer is a \(decoded.message.kind.rawValue), not a receipt")
        }
        do {
            let signer = try verifier.verify(decoded.document)
            try verifier.requireSender(receipt.envelope.sender, matches: signer)
            return CheckedReceipt(receipt: receipt, signer: signer)
        } catch {
            throw DeliveryFailure("the receipt's signature is not acceptable: \(error)")
        }
    }

    public func require(_ checked: CheckedReceipt, answers sentBytes: Data, messageID: MessageID) throws {
        do {
            try ReceiptMatch.require(checked.receipt, answers: sentBytes, messageID: messageID)
        } catch {
            throw DeliveryFailure("\(error)")
        }
    }
}

public struct DeliveryFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
