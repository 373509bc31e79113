public enum RejectionCode: String, CaseIterable, Sendable {
    case malformed
    case schemaInvalid = "schema-invalid"
    case ruleViolation = "rule-violation"
    case signatureInvalid = "signature-invalid"
    case untrustedSender = "untrusted-sender"
    case senderMismatch = "sender-mismatch"
    case unknownReceiver = "unknown-receiver"
    case tooLarge = "too-large"
    case internalError = "internal-error"
}

public enum ReceiptOutcome: Hashable, Sendable {
    case accepted
    case rejected(code: RejectionCode, text: String)
}

/// A lower-case hex SHA-256 digest of the exact bytes of a message.
public struct SHA256Hex: Hashable, Sendable, CustomStringConvertible {
    public let value: String
    public init(_ text: String) throws {
        let isLowerHex = text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
        guard text.utf8.count == 64, isLowerHex else {
            throw FieldFormatError(rule: "sha256-format", message: "digest must be 64 lower-case hex digits (SHA-256)")
        }
        value = text
    }
    public var description: String { value }
}

/// Ontvangstbevestiging: answers one message by id and digest.
public struct Receipt: Hashable, Sendable {
    public var envelope: Envelope
    public var answeredMessageID: MessageID
    public var answeredDigest: SHA256Hex
    public var outcome: ReceiptOutcome
    public var receivedAt: Timestamp

    public init(
        envelope: Envelope, answeredMessageID: MessageID, answeredDigest: SHA256Hex, outcome: ReceiptOutcome,
        receivedAt: Timestamp
    ) {
        self.envelope = envelope
        self.answeredMessageID = answeredMessageID
        self.answeredDigest = answeredDigest
        self.outcome = outcome
        self.receivedAt = receivedAt
    }
}
