import CXMLSec
import Foundation
import KoerierModel

/// A receipt answers one message: same message id, and the SHA-256 of that message's
/// exact bytes (as sent, signature included).
public enum ReceiptMatch {
    public static func sha256Hex(_ data: Data) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        data.withUnsafeBytes { buffer in
            _ = EVP_Digest(buffer.baseAddress, buffer.count, &digest, &length, EVP_sha256(), nil)
        }
        let hexDigits = Array("0123456789abcdef".utf8)
        return String(decoding: digest.prefix(Int(length)).flatMap { [hexDigits[Int($0 >> 4)], hexDigits[Int($0 & 0x0f)]] }, as: UTF8.self)
    }

    /// Throws when `receipt` does not answer the message whose bytes are `original`.
    public static func require(_ receipt: Receipt, answers original: Data, messageID: MessageID) throws(SignatureError) {
        guard receipt.answeredMessageID == messageID else {
            throw SignatureError(.receiptMismatch, "the receipt answers message \(receipt.answeredMessageID), not \(messageID)")
        }
        let digest = sha256Hex(original)
        guard receipt.answeredDigest.value == digest else {
            throw SignatureError(
                .receiptMismatch, "the receipt's SHA-256 (\(receipt.answeredDigest.value)) is not that of the message's bytes (\(digest))")
        }
    }
}
