import Foundation
import KoerierConfig
import KoerierSecurity

/// One certificate Koerier depends on, and when it stops being valid.
public struct CertificateExpiry: Sendable, Equatable {
    /// What it is for: "own signing certificate", "trust anchor", "S/MIME certificate of employer-x" …
    public let role: String
    public let file: String
    public let subject: String?
    /// nil when the file holds no readable certificate.
    public let expiresAt: Date?

    public func secondsLeft(now: Date) -> TimeInterval? { expiresAt.map { $0.timeIntervalSince(now) } }

    /// Certificates are raised this many days before they expire (the status page, doctor;
    /// the alert rule uses the same 30 days).
    public static let warningDays = 30

    /// Expired, unreadable, or expiring within `warningDays`.
    public func needsAttention(now: Date) -> Bool { Self.needsAttention(expiresAt: expiresAt, now: now) }

    /// The same rule for a certificate read elsewhere (a partner's server, at a handshake).
    public static func needsAttention(expiresAt: Date?, now: Date) -> Bool {
        expiresAt.map { $0.timeIntervalSince(now) < Double(warningDays) * 86_400 } ?? true
    }
}

/// Every certificate file the configuration and the recipient directory name: this gateway's
/// own (signing, TLS, S/MIME), the trust anchors and consent signers, and per partner its
/// S/MIME certificate and the anchors its server or relay must chain to. Read from the files
/// each time (they change on renewal, before a reload).
public enum CertificateInventory {
    public static func list(configuration: KoerierConfiguration, directory: RecipientDirectory?) -> [CertificateExpiry] {
        var files: [(role: String, file: URL)] = []
        if let identity = configuration.identity {
            files.append(("own signing certificate", identity.certificate))
            files.append(("own TLS certificate", identity.tls.certificate))
            files.append(("own S/MIME certificate", identity.smime.certificate))
        }
        if let anchors = configuration.trustAnchors { files.append(("trust anchor", anchors)) }
        if let signers = configuration.consentSigners { files.append(("consent signer", signers)) }
        for recipient in directory?.recipients.values.sorted(by: { $0.id < $1.id }) ?? [] {
            switch recipient.transport {
            case .https(let target): files.append(("server anchor of \(recipient.id)", target.serverAnchors))
            case .smtp(let target):
                files.append(("relay anchor of \(recipient.id)", target.relayAnchors))
                if let certificate = target.certificate { files.append(("S/MIME certificate of \(recipient.id)", certificate)) }
                if let anchors = target.smimeAnchors { files.append(("S/MIME anchor of \(recipient.id)", anchors)) }
            case .folder: break
            }
        }
        var seen = Set<String>()
        // One file serves several roles (the signing certificate for TLS and S/MIME too, one
        // anchor bundle for many partners): each is read and parsed once.
        var parsed: [String: [Certificate]] = [:]
        var result: [CertificateExpiry] = []
        for (role, file) in files {
            guard seen.insert(role + "\u{0}" + file.path).inserted else { continue }
            if parsed[file.path] == nil {
                parsed[file.path] = FileManager.default.contents(atPath: file.path).map(Certificate.loadPEM) ?? []
            }
            let certificates = parsed[file.path] ?? []
            if certificates.isEmpty {
                result.append(CertificateExpiry(role: role, file: file.path, subject: nil, expiresAt: nil))
            }
            // A bundle (anchors, a chain): each certificate on its own line.
            for certificate in certificates {
                result.append(
                    CertificateExpiry(role: role, file: file.path, subject: certificate.subjectCommonName, expiresAt: certificate.expiresAt)
                )
            }
        }
        return result
    }
}
