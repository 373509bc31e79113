import Foundation
import KoerierConfig
import KoerierSecurity

/// What a daemon (`serve`, `deliver`) checks before it opens anything: the files it keeps
/// secret and its store belong to it and no one else may read them (`FileAccess`).
public enum DaemonFileCheck {
    /// Throws with every finding; in `test_mode` hands each to `warn` instead.
    public static func run(configuration: KoerierConfiguration, warn: (String) -> Void) throws {
        if configuration.crl == nil {
            guard configuration.testMode else {
                throw DeliveryFailure("\(configuration.file.path): 'trust.crl' is required (revoked certificates must be refused)")
            }
            warn("test_mode: no trust.crl: revocation is not checked (refused outside test mode)")
        }
        // Receipts name this gateway by its certificate's UZI identity: without one, every
        // receipt would fail to be signed (and partners could not bind it to us).
        if let certificate = configuration.identity?.certificate,
            let own = FileManager.default.contents(atPath: certificate.path).flatMap({ Certificate.loadPEM($0).first }),
            own.uziName?.serverURA == nil
        {
            let problem = "\(certificate.path): names no URA in a UZI server otherName (subjectAltName 2.5.5.5)"
            guard configuration.testMode else { throw DeliveryFailure("\(configuration.file.path): identity.certificate \(problem)") }
            warn("test_mode: identity.certificate \(problem) (refused outside test mode)")
        }
        let directory = try RecipientDirectory.load(file: configuration.recipientsFile)
        let findings = FileAccess.findings(for: configuration, secrets: directory.passwordFiles)
        guard !findings.isEmpty else { return }
        if configuration.testMode {
            for finding in findings { warn("test_mode: \(finding) (refused outside test mode)") }
            return
        }
        throw DeliveryFailure(
            "files others may read or that belong to another user:\n" + findings.map { "  \($0)" }.joined(separator: "\n"))
    }
}
