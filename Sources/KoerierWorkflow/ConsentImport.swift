import Foundation
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierStore

/// A consent document from the record system: which directory parties may hear about one
/// trajectory, as the client gave it. JSON, signed with a detached CMS signature by a
/// certificate of this centre's own organisation (same care identifier as the gateway's);
/// it becomes the trajectory's next consent version, audited. It may widen or narrow that
/// trajectory's consent (an empty `parties` withdraws it), and no other trajectory's.
///
///     {"document_id": "…uuid…", "trajectory": 12, "recorded_on": "2026-11-02",
///      "parties": ["arbo-voorbeeld"]}
public struct ConsentDocument: Sendable, Equatable {
    public let documentID: String
    public let trajectory: Int64
    public let recordedOn: String
    public let parties: [String]

    /// Reads the document; every refusal names the field and the rule, never a value.
    public static func decode(_ data: Data) throws(ConsentImportError) -> ConsentDocument {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ConsentImportError("the consent document is not a JSON object")
        }
        let known: Set<String> = ["document_id", "trajectory", "recorded_on", "parties"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConsentImportError("\(unknown): not a field of a consent document")
        }
        guard let documentID = object["document_id"] as? String, UUID(uuidString: documentID) != nil else {
            throw ConsentImportError("document_id: a UUID is required")
        }
        guard let trajectory = object["trajectory"] as? Int64 ?? (object["trajectory"] as? Int).map(Int64.init), trajectory > 0 else {
            throw ConsentImportError("trajectory: a positive trajectory id is required")
        }
        guard let recordedOn = object["recorded_on"] as? String, (try? CalendarDate(parsing: recordedOn)) != nil else {
            throw ConsentImportError("recorded_on: a date (YYYY-MM-DD) is required")
        }
        guard let parties = object["parties"] as? [String] else {
            throw ConsentImportError("parties: a list of directory ids is required (empty withdraws consent)")
        }
        guard Set(parties).count == parties.count else { throw ConsentImportError("parties: a party is named twice") }
        return ConsentDocument(documentID: documentID.lowercased(), trajectory: trajectory, recordedOn: recordedOn, parties: parties)
    }
}

public struct ConsentImportError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public struct ConsentImport: Sendable {
    let store: any MessageStore
    let directory: RecipientDirectory
    let trust: TrustStore
    /// The gateway's own certificate: a consent document's signer must be the same organisation.
    let ownCertificate: Certificate
    let identities: IdentityPolicy

    public init(
        store: any MessageStore, directory: RecipientDirectory, trust: TrustStore, ownCertificate: Certificate, identities: IdentityPolicy
    ) {
        self.store = store
        self.directory = directory
        self.trust = trust
        self.ownCertificate = ownCertificate
        self.identities = identities
    }

    /// Verifies and records the document; returns the version in force afterwards.
    public func record(_ content: Data, signature: Data, context: AuditContext, now: Date = Date()) throws -> ConsentVersion {
        let signer: Certificate
        do {
            signer = try SignedDocument.verify(content, signature: signature, trust: trust, at: now)
        } catch {
            throw ConsentImportError("signature: \(error)")
        }
        guard let ours = ownCertificate.careIdentifier(identities), let theirs = signer.careIdentifier(identities), ours == theirs else {
            throw ConsentImportError("signature: the signer is not this centre's organisation (care identifiers differ)")
        }
        let document = try ConsentDocument.decode(content)
        for party in document.parties where directory[party] == nil {
            throw ConsentImportError("parties: '\(party)' is not in the recipient directory")
        }
        guard try store.trajectory(document.trajectory) != nil else {
            throw ConsentImportError("trajectory: no trajectory \(document.trajectory)")
        }
        return try store.recordConsent(
            ConsentGrant(parties: Set(document.parties), recordedOn: document.recordedOn, source: document.documentID),
            trajectory: document.trajectory, now: now, context: context)
    }
}
