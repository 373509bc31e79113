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
        } catch let error where error.isOurs {
            throw ReceiptUncheckable(reason: "\(error)")
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

extension ReceiptCheck {
    /// The receipt must come from the recipient the record was for: a positive match of the
    /// identifier its signer's certificate proves with the directory entry's URA (or, for an
    /// entry without a URA, its AGB). An entry without either cannot match; only in test
    /// mode is it matched by the signer's organisation name instead.
    public func require(_ checked: CheckedReceipt, from recipient: Recipient) throws {
        let signer = checked.signer
        if signer.isParty(ura: recipient.ura?.value, agb: recipient.agb?.value) { return }
        if verifier.identities.allowsTestIdentities, recipient.ura == nil, recipient.agb == nil, signer.careIdentifier == nil,
            signer.organisation == recipient.name
        {
            return
        }
        let expected = [recipient.ura.map { "URA \($0.value)" }, recipient.agb.map { "AGB \($0.value)" }].compactMap { $0 }
        let signedBy = signer.careIdentifier.map { "\(signer.careIdentifierKind ?? "") \($0)" } ?? "a certificate without a UZI identity"
        throw DeliveryFailure(
            "the receipt is signed by \(signedBy), not by recipient \(recipient.id) ("
                + (expected.isEmpty ? "no URA or AGB in the directory" : expected.joined(separator: ", ")) + ")")
    }
}

/// A receipt this gateway cannot judge now (its CRLs are stale or missing, a library
/// failed): not the receipt's fault, so it is neither taken nor refused for good.
public struct ReceiptUncheckable: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public var description: String { "the receipt cannot be checked now: \(reason)" }
}

public struct DeliveryFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
