/// What a document is, in ZorgDomein terms. Each message kind allows some of them.
public enum DocumentKind: String, CaseIterable, Sendable {
    case verwijzing, aanvulling, annulering, terugkoppeling
    case terugkoppelingCorrectie = "terugkoppeling-correctie"
    case deelnamebericht, ontvangstbevestiging
}

/// HASP "Envelop": ids, time, kind, sender and receiver.
public struct Envelope: Hashable, Sendable {
    public var messageID: MessageID
    /// Shared by every message of one trajectory.
    public var transactionID: TransactionID
    public var created: Timestamp
    public var documentKind: DocumentKind
    public var sender: Party
    public var receiver: Party
    public var inReplyTo: MessageID?

    public init(
        messageID: MessageID, transactionID: TransactionID, created: Timestamp, documentKind: DocumentKind,
        sender: Party, receiver: Party, inReplyTo: MessageID? = nil
    ) {
        self.messageID = messageID
        self.transactionID = transactionID
        self.created = created
        self.documentKind = documentKind
        self.sender = sender
        self.receiver = receiver
        self.inReplyTo = inReplyTo
    }
}
