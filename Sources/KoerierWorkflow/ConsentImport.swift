import Foundation
import KoerierConfig
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierStore

/// A consent document from the record system: which directory parties may hear about one
/// trajectory, as the client gave it. JSON, signed with a detached CMS signature by one of
/// the configured consent signers (`trust.consent_signers`: the record system's
/// certificates, of this centre's own organisation, never the gateway's own keys); it
/// becomes the trajectory's next consent version, audited, if the version it replaces is
/// still in force. It may widen or narrow that trajectory's consent (an empty `parties`
/// withdraws it), and no other trajectory's.
///
///     {"document_id": "…uuid…", "trajectory": 12, "replaces_version": 1,
///      "recorded_on": "2026-11-02", "parties": ["arbo-voorbeeld"]}
public struct ConsentDocument: Sendable, Equatable {
    public let documentID: String
    public let trajectory: Int64
    public let replacesVersion: Int
    public let recordedOn: String
    public let parties: [String]

    /// Reads the document; every refusal names the field and the rule, never a value.
    public static func decode(_ data: Data) throws(ConsentImportError) -> ConsentDocument {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ConsentImportError("the consent document is not a JSON object")
        }
        let known: Set<String> = ["document_id", "trajectory", "replaces_version", "recorded_on", "parties"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConsentImportError("\(unknown): not a field of a consent document")
        }
        guard let documentID = object["document_id"] as? String, UUID(uuidString: documentID) != nil else {
            throw ConsentImportError("document_id: a UUID is required")
        }
        guard let trajectory = object["trajectory"] as? Int64 ?? (object["trajectory"] as? Int).map(Int64.init), trajectory > 0 else {
            throw ConsentImportError("trajectory: a positive trajectory id is required")
        }
        guard let replaces = object["replaces_version"] as? Int, replaces >= 0 else {
            throw ConsentImportError("replaces_version: the version in force this document replaces is required (0: none)")
        }
        guard let recordedOn = object["recorded_on"] as? String, (try? CalendarDate(parsing: recordedOn)) != nil else {
            throw ConsentImportError("recorded_on: a date (YYYY-MM-DD) is required")
        }
        guard let parties = object["parties"] as? [String] else {
            throw ConsentImportError("parties: a list of directory ids is required (empty withdraws consent)")
        }
        guard Set(parties).count == parties.count else { throw ConsentImportError("parties: a party is named twice") }
        return ConsentDocument(
            documentID: documentID.lowercased(), trajectory: trajectory, replacesVersion: replaces, recordedOn: recordedOn, parties: parties
        )
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
    /// Who may sign a consent document (the record system's certificates).
    let signers: [Certificate]
    /// The gateway's own certificates (XML, TLS, S/MIME): never a consent signer, and the
    /// first names the organisation a signer must belong to.
    let ownCertificates: [Certificate]
    let identities: IdentityPolicy

    public init(
        store: any MessageStore, directory: RecipientDirectory, trust: TrustStore, signers: [Certificate], ownCertificates: [Certificate],
        identities: IdentityPolicy
    ) {
        self.store = store
        self.directory = directory
        self.trust = trust
        self.signers = signers
        self.ownCertificates = ownCertificates
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
        guard !ownCertificates.contains(where: { $0.der == signer.der }) else {
            throw ConsentImportError("signature: signed with one of this gateway's own keys; only the record system's signers may")
        }
        guard signers.contains(where: { $0.der == signer.der }) else {
            throw ConsentImportError("signature: the signer is not one of trust.consent_signers")
        }
        guard let ours = ownCertificates.first?.careIdentifier(identities), let theirs = signer.careIdentifier(identities), ours == theirs
        else {
            throw ConsentImportError("signature: the signer is not this centre's organisation (care identifiers differ)")
        }
        let document = try ConsentDocument.decode(content)
        for party in document.parties where directory[party] == nil {
            throw ConsentImportError("parties: '\(party)' is not in the recipient directory")
        }
        guard try store.trajectory(document.trajectory) != nil else {
            throw ConsentImportError("trajectory: no trajectory \(document.trajectory)")
        }
        do {
            return try store.recordConsent(
                ConsentGrant(parties: Set(document.parties), recordedOn: document.recordedOn, source: document.documentID),
                trajectory: document.trajectory, replacing: document.replacesVersion, now: now, context: context)
        } catch let conflict as ConsentConflict {
            throw ConsentImportError(conflict.description)
        }
    }
}

extension ConsentImport {
    /// As the configuration has it: `trust.consent_signers`, and the gateway's own keys of
    /// every purpose (refused as signers). A CRL is required outside test mode.
    public static func configured(
        _ configuration: KoerierConfiguration, store: any MessageStore, directory: RecipientDirectory, trust: TrustStore
    ) throws(ConsentImportError) -> ConsentImport {
        guard let signersFile = configuration.consentSigners else {
            throw ConsentImportError("\(configuration.file.path): 'trust.consent_signers' names nobody who may sign consent documents")
        }
        guard configuration.crl != nil || configuration.testMode else {
            throw ConsentImportError("\(configuration.file.path): 'trust.crl' is required to check consent signers")
        }
        let signers = FileManager.default.contents(atPath: signersFile.path).map(Certificate.loadPEM) ?? []
        guard !signers.isEmpty else { throw ConsentImportError("\(signersFile.path): no PEM certificate found") }
        guard let identity = configuration.identity else {
            throw ConsentImportError("\(configuration.file.path): 'identity' is needed to check a consent signer's organisation")
        }
        let own = [identity.certificate, identity.tls.certificate, identity.smime.certificate].compactMap(DetachedSignature.certificate)
        return ConsentImport(
            store: store, directory: directory, trust: trust, signers: signers, ownCertificates: own,
            identities: IdentityPolicy(testMode: configuration.testMode))
    }
}
