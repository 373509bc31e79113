import Foundation
import KoerierConfig
import KoerierSecurity
import KoerierStore

/// One thing `koerier doctor` looked at: what it found and, when something is wrong, how to fix it.
public struct DoctorFinding: Sendable, Equatable {
    public enum Status: String, Sendable {
        case ok, warning, failure
    }

    public let check: String
    public let status: Status
    public let detail: String
    public let fix: String?

    public init(_ check: String, _ status: Status, _ detail: String, fix: String? = nil) {
        self.check = check
        self.status = status
        self.detail = detail
        self.fix = fix
    }
}

/// The checks of `koerier doctor`: configuration and directory, file owners and modes,
/// certificates, the CRL, the store, the clock, and a TLS handshake with each partner.
/// Nothing is sent and nothing in the store changes.
public enum Doctor {
    public static func examine(
        configuration: KoerierConfiguration, openStore: () throws -> any MessageStore, now: Date = Date()
    ) -> [DoctorFinding] {
        var findings = [DoctorFinding("configuration", .ok, configuration.file.path)]
        var directory: RecipientDirectory?
        do {
            let loaded = try RecipientDirectory.load(file: configuration.recipientsFile)
            directory = loaded
            findings.append(
                DoctorFinding("recipients", .ok, "\(loaded.recipients.count) partner(s) in \(configuration.recipientsFile.path)"))
        } catch {
            findings.append(DoctorFinding("recipients", .failure, "\(error)", fix: "correct the recipient directory where it says"))
        }
        findings += files(configuration, directory: directory)
        findings += certificates(configuration, directory: directory, now: now)
        findings.append(crl(configuration, now: now))
        findings += store(openStore, now: now)
        if let directory { findings += partners(configuration, directory: directory, now: now) }
        return findings
    }

    static func files(_ configuration: KoerierConfiguration, directory: RecipientDirectory?) -> [DoctorFinding] {
        let found = FileAccess.findings(for: configuration, secrets: directory?.passwordFiles ?? [])
        guard !found.isEmpty else { return [DoctorFinding("files", .ok, "keys and store belong to this user, owner-only")] }
        return found.map { finding in
            DoctorFinding(
                "files", .failure, finding.description + (configuration.testMode ? " (test_mode tolerates this at start)" : ""),
                fix: finding.fix)
        }
    }

    static func certificates(_ configuration: KoerierConfiguration, directory: RecipientDirectory?, now: Date) -> [DoctorFinding] {
        let all = CertificateInventory.list(configuration: configuration, directory: directory)
        var findings: [DoctorFinding] = []
        for certificate in all {
            let name = "\(certificate.role) \(certificate.subject ?? "")".trimmingCharacters(in: .whitespaces)
            guard let left = certificate.secondsLeft(now: now), let expiresAt = certificate.expiresAt else {
                findings.append(
                    DoctorFinding(
                        "certificates", .failure, "\(certificate.role): \(certificate.file) holds no readable certificate",
                        fix: "put the PEM certificate in \(certificate.file)"))
                continue
            }
            if left <= 0 {
                findings.append(
                    DoctorFinding(
                        "certificates", .failure, "\(name) expired on \(iso(expiresAt)) (\(certificate.file))",
                        fix: "replace \(certificate.file) with a renewed certificate, then `systemctl reload koerier` (SIGHUP)"))
            } else if certificate.needsAttention(now: now) {
                findings.append(
                    DoctorFinding(
                        "certificates", .warning,
                        "\(name) expires on \(iso(expiresAt)), in \(Int(left / 86_400)) day(s) (\(certificate.file))",
                        fix: "renew it before then and replace \(certificate.file); then `systemctl reload koerier` (SIGHUP)"))
            }
        }
        if findings.isEmpty {
            findings.append(
                DoctorFinding(
                    "certificates", .ok, "\(all.count) certificate(s), none expiring within \(CertificateExpiry.warningDays) days"))
        }
        return findings
    }

    static func crl(_ configuration: KoerierConfiguration, now: Date) -> DoctorFinding {
        guard let file = configuration.crl else {
            return DoctorFinding(
                "crl", configuration.testMode ? .warning : .failure, "no trust.crl: revoked certificates would not be refused",
                fix: "set trust.crl to the CRL file of your trust anchors' CAs and keep it fetched")
        }
        switch CRLFreshness.of(file: file, now: now) {
        case .unreadable:
            return DoctorFinding("crl", .failure, "\(file.path) holds no readable CRL", fix: "fetch the CRL (PEM) into \(file.path)")
        case .stale(let next):
            return DoctorFinding(
                "crl", .failure, "\(file.path) is stale: its next update was due \(iso(next))",
                fix: "fetch a fresh CRL into \(file.path); koerier serve reloads it by itself")
        case .fresh(let next):
            return DoctorFinding("crl", .ok, "\(file.path): next update \(iso(next))")
        }
    }

    static func store(_ open: () throws -> any MessageStore, now: Date) -> [DoctorFinding] {
        let store: any MessageStore
        do {
            store = try open()
        } catch {
            return [
                DoctorFinding(
                    "store", .failure, "\(error)",
                    fix: "as the error says; `koerier init` makes a missing store, a refused key file is in the files check")
            ]
        }
        var findings: [DoctorFinding] = []
        do {
            let records = try store.counts().map(\.count).reduce(0, +)
            if let problem = try store.verifyAudit() {
                findings.append(
                    DoctorFinding(
                        "store", .failure, "the audit chain does not verify: \(problem)",
                        fix: "treat as a security incident: `koerier audit verify --checkpoints FILE`, then restore from a backup"))
            } else {
                findings.append(DoctorFinding("store", .ok, "\(records) outbound record(s); audit chain intact"))
            }
            // A clock that went back would make leases and retry times wrong.
            if let newest = try store.auditEntries(limit: 1).first?.at, newest.timeIntervalSince(now) > 60 {
                findings.append(
                    DoctorFinding(
                        "clock", .failure,
                        "the newest audit entry is \(Int(newest.timeIntervalSince(now))) s in the future: this machine's clock went back",
                        fix: "set the clock right (systemd-timesyncd or chrony) before starting koerier"))
            } else {
                findings.append(DoctorFinding("clock", .ok, "\(iso(now)); no store entry lies in the future"))
            }
        } catch {
            findings.append(DoctorFinding("store", .failure, "\(error)", fix: "see the error; `koerier init` applies a missing schema"))
        }
        return findings
    }

    static func partners(_ configuration: KoerierConfiguration, directory: RecipientDirectory, now: Date) -> [DoctorFinding] {
        guard let identity = configuration.identity else {
            return [DoctorFinding("partners", .warning, "no identity: no TLS handshake tried", fix: "configure 'identity'")]
        }
        let credentials: ClientCredentials
        do {
            credentials = ClientCredentials(
                certificateChain: try DeliveryAssembly.clientChainFile(configuration: configuration), key: identity.tls.key)
        } catch {
            return [DoctorFinding("partners", .failure, "\(error)", fix: "check identity.tls (or identity) certificate")]
        }
        let timeouts = TransportTimeouts(
            connect: configuration.delivery.connectTimeoutSeconds, total: configuration.delivery.connectTimeoutSeconds * 2)
        // Every partner at once: a slow one costs its own timeout, not everyone's.
        let recipients = directory.recipients.values.sorted { $0.id < $1.id }
        let results = ProbeResults(count: recipients.count)
        DispatchQueue.concurrentPerform(iterations: recipients.count) { index in
            results.set(index, PartnerProbe.probe(recipients[index], credentials: credentials, timeouts: timeouts))
        }
        return results.all.map { result in
            let check = "partner \(result.recipientID)"
            if let failure = result.failure {
                return DoctorFinding(
                    check, .failure, "no TLS handshake with \(result.endpoint): \(failure)",
                    fix: "check that \(result.endpoint) is reachable from here and that its certificate chains to the configured anchors")
            }
            guard let expiresAt = result.serverCertificateExpiresAt else {
                return DoctorFinding(check, .ok, "TLS handshake with \(result.endpoint) completed (nothing sent)")
            }
            if CertificateExpiry.needsAttention(expiresAt: expiresAt, now: now) {
                return DoctorFinding(
                    check, .warning, "TLS handshake with \(result.endpoint) completed; its server certificate expires \(iso(expiresAt))",
                    fix: "ask the partner to renew its server certificate")
            }
            return DoctorFinding(
                check, .ok,
                "TLS handshake with \(result.endpoint) completed (nothing sent); server certificate valid until \(iso(expiresAt))")
        }
    }

    /// The probes' results, filled in from several threads.
    final class ProbeResults: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [PartnerProbe.Result?]

        init(count: Int) { results = Array(repeating: nil, count: count) }

        func set(_ index: Int, _ result: PartnerProbe.Result?) { lock.withLock { results[index] = result } }

        var all: [PartnerProbe.Result] { lock.withLock { results.compactMap { $0 } } }
    }

    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: date)
    }
}
