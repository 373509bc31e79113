import Foundation
import KoerierModel

/// One message for one recipient, as handed to the queue.
public struct OutboundMessage: Sendable {
    public var messageID: MessageID
    public var kind: MessageKind
    public var recipientID: String
    public var recipientType: RecipientType
    public var transactionID: TransactionID
    public var urgency: Urgency
    /// The exact bytes to send (signed XML); stored encrypted.
    public var payload: Data
    /// Pseudonymous client reference for the audit log (`ClientReferencer`), if the
    /// message concerns a client.
    public var clientReference: String?
    /// Set when `payload` is exactly what leaves for this recipient (decided and signed at
    /// enqueue): its own message id and SHA-256, on record before the first attempt, so a
    /// retry sends the same bytes and a late receipt can be matched.
    public var prepared: PreparedCopy?

    public init(
        messageID: MessageID, kind: MessageKind, recipientID: String, recipientType: RecipientType,
        transactionID: TransactionID, urgency: Urgency, payload: Data, clientReference: String? = nil,
        prepared: PreparedCopy? = nil
    ) {
        self.clientReference = clientReference
        self.prepared = prepared
        self.messageID = messageID
        self.kind = kind
        self.recipientID = recipientID
        self.recipientType = recipientType
        self.transactionID = transactionID
        self.urgency = urgency
        self.payload = payload
    }
}

/// The identity of the bytes that leave for one recipient.
public struct PreparedCopy: Sendable, Equatable {
    public let messageID: MessageID
    /// SHA-256 of the bytes, lowercase hex (what a receipt must name).
    public let digest: String

    public init(messageID: MessageID, digest: String) {
        self.messageID = messageID
        self.digest = digest
    }
}

/// A message whose payload is already encrypted for the store that sealed it. Sealing is
/// CPU work that callers do on their own threads, so a group-commit flusher only writes.
public struct SealedOutboundMessage: Sendable {
    public let message: OutboundMessage
    let keyID: String
    let sealedPayload: Data
}

/// What the queue knows of a record, without its payload: all of it stays queryable.
public struct OutboundRecord: Sendable, Equatable {
    public let id: Int64
    public let messageID: String
    public let kind: String
    public let recipientID: String
    public let recipientType: String
    public let transactionID: String
    public let urgency: Urgency
    public let state: DeliveryState
    public let attempts: Int
    public let nextAttemptAt: Date
    public let leaseOwner: String?
    public let leaseExpiresAt: Date?
    public let lastError: String?
    public let receiptID: String?
    public let clientReference: String?
    public let createdAt: Date
    public let updatedAt: Date
    public let keyID: String
    /// The current lease's token while `sending`: the proof a worker shows to settle it.
    public let leaseToken: String?
    /// The message id of the bytes that leave, when they were decided at enqueue (the
    /// payload is then sent as it is, on every attempt).
    public let preparedMessageID: String?
}

public enum EnqueueOutcome: Sendable, Equatable {
    case stored(OutboundRecord)
    /// The same message id for the same recipient was already queued: nothing new stored.
    case duplicate(OutboundRecord)

    public var record: OutboundRecord {
        switch self {
        case .stored(let record), .duplicate(let record): return record
        }
    }
}

/// A change of state, with what goes with it.
public struct Transition: Sendable {
    public var to: DeliveryState
    /// Kept storable however it is set (see `storable`).
    public var error: String? {
        didSet {
            guard let error else { return }
            let kept = Self.storable(error)
            if kept != error { self.error = kept }
        }
    }
    public var nextAttemptAt: Date?
    public var receiptID: String?
    /// The id and SHA-256 of the bytes that left (a receipt must answer these).
    public var sentMessageID: String?
    public var sentDigest: String?

    public init(
        to: DeliveryState, error: String? = nil, nextAttemptAt: Date? = nil, receiptID: String? = nil,
        sentMessageID: String? = nil, sentDigest: String? = nil
    ) {
        self.to = to
        self.error = error.map(Self.storable)
        self.nextAttemptAt = nextAttemptAt
        self.receiptID = receiptID
        self.sentMessageID = sentMessageID
        self.sentDigest = sentDigest
    }

    /// The longest reason kept (a partner's answer can be any size).
    static let maximumErrorLength = 500

    /// A reason often quotes a partner's answer, which is untrusted bytes: control characters
    /// (a NUL, which PostgreSQL's text refuses and which would sink the whole pass's unit of
    /// work; line breaks that would forge lines in `koerier list`) and other invisible ones
    /// become spaces, and the text is cut to a length a status line can show.
    static func storable(_ reason: String) -> String {
        var cleaned = String.UnicodeScalarView()
        for scalar in reason.unicodeScalars {
            switch scalar.properties.generalCategory {
            // Controls, line and paragraph separators, and format characters (bidi overrides
            // that would reorder a status line).
            case .control, .lineSeparator, .paragraphSeparator, .format: cleaned.append(" ")
            default: cleaned.append(scalar)
            }
        }
        let text = String(cleaned)
        return text.count <= maximumErrorLength ? text : String(text.prefix(maximumErrorLength - 1)) + "…"
    }
}

/// Who does something to the store, and from where: the audit log's actor and access point.
public struct AuditContext: Sendable {
    public var actor: String
    public var onBehalfOf: String?
    public var accessPoint: String

    public init(actor: String, onBehalfOf: String? = nil, accessPoint: String) {
        self.actor = actor
        self.onBehalfOf = onBehalfOf
        self.accessPoint = accessPoint
    }
}

/// A message that arrived, as the inbound queue keeps it.
public struct InboundMessage: Sendable {
    public var messageID: MessageID
    public var kind: MessageKind
    public var sender: String
    public var payload: Data
    public var clientReference: String?

    public init(messageID: MessageID, kind: MessageKind, sender: String, payload: Data, clientReference: String? = nil) {
        self.messageID = messageID
        self.kind = kind
        self.sender = sender
        self.payload = payload
        self.clientReference = clientReference
    }
}

public struct InboundRecord: Sendable, Equatable {
    public let messageID: String
    public let kind: String
    public let sender: String
    public let state: InboundState
    public let reason: String?
    public let receivedAt: Date
    public let updatedAt: Date
}

/// The record's lease is no longer the caller's: it expired and the record went back to
/// the queue (perhaps to another worker). The caller's change was not recorded.
public struct LeaseLost: Error, CustomStringConvertible, Sendable {
    public let recordID: Int64
    public init(recordID: Int64) { self.recordID = recordID }
    public var description: String { "record \(recordID): the lease was lost (expired and taken back); nothing was recorded" }
}

/// A receipt was issued for this message id already: another arrival of the message was
/// stored first (two copies at once), and this one must be answered as a duplicate.
public struct ReceiptAlreadyIssued: Error, CustomStringConvertible, Sendable {
    public let messageID: String
    public var description: String { "a receipt was already issued for message \(messageID)" }
}

public struct StoreError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What one source (a verified referral, a signed consent document) grants: the parties,
/// named by their directory id, that may hear about one trajectory. Never a recipient type:
/// a directory entry added later is not covered by an earlier grant.
public struct ConsentGrant: Sendable, Equatable {
    public var parties: Set<String>
    /// The date the client gave it (as recorded in the source).
    public var recordedOn: String
    /// The referral's message id, or the consent document's id.
    public var source: String

    public init(parties: Set<String>, recordedOn: String, source: String) {
        self.parties = parties
        self.recordedOn = recordedOn
        self.source = source
    }
}

/// One version of a trajectory's consent; the highest version is the one in force.
public struct ConsentVersion: Sendable, Equatable {
    public let trajectoryID: Int64
    public let version: Int
    public let grant: ConsentGrant
    public let recordedAt: Date

    public init(trajectoryID: Int64, version: Int, grant: ConsentGrant, recordedAt: Date) {
        self.trajectoryID = trajectoryID
        self.version = version
        self.grant = grant
        self.recordedAt = recordedAt
    }

    public func allows(_ party: String) -> Bool { grant.parties.contains(party) }
}
