/// Numeric Zorgmail EDI addresses (digits only, 1–35) of sender and recipient, and the
/// character set declared in UNB.
public struct MEDVRIAddressing: Sendable, Equatable {
    public let sender: String
    public let recipient: String
    public let charset: EDIFACTCharset

    public init(sender: String, recipient: String, charset: EDIFACTCharset) throws(MEDVRIError) {
        guard Self.isEDIAddress(sender) else {
            throw MEDVRIError(rule: "edi-address", message: "the sender's EDI address must be 1-35 digits")
        }
        guard Self.isEDIAddress(recipient) else {
            throw MEDVRIError(rule: "edi-address", message: "the recipient's EDI address must be 1-35 digits")
        }
        self.sender = sender
        self.recipient = recipient
        self.charset = charset
    }

    /// A numeric Zorgmail EDI address: 1 to 35 digits.
    public static func isEDIAddress(_ text: String) -> Bool {
        (1...35).contains(text.utf8.count) && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }
}
