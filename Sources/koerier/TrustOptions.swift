import ArgumentParser
import KoerierConfig
import KoerierSecurity

/// `--trust` and `--crl`, shared by the commands that verify signatures.
struct TrustOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Trust anchors (PEM bundle) for signatures.", valueName: "ANCHORS.pem"))
    var trust: String?

    @Option(help: ArgumentHelp("Certificate revocation list (PEM), with --trust.", valueName: "CRL.pem"))
    var crl: String?

    /// The verifier for `--trust`; with `fallback`, the configuration's anchors when
    /// `--trust` is absent. Nil when signatures are not to be checked. Identities as the
    /// configuration's `test_mode` allows (without a configuration: the UZI otherName only).
    func verifier(fallback configuration: KoerierConfiguration?) throws -> SignatureVerifier? {
        let identities = IdentityPolicy(testMode: configuration?.testMode ?? false)
        if let trust { return SignatureVerifier(trust: try loadTrustStore(trust, crl: crl), identities: identities) }
        if crl != nil { throw CommandFailure("--crl needs --trust", exitCode: .configurationError) }
        guard let configuration else { return nil }
        guard let anchors = configuration.trustAnchors else {
            throw CommandFailure(
                "no trust anchors: give --trust ANCHORS.pem or set trust.anchors in the configuration",
                exitCode: .configurationError)
        }
        return SignatureVerifier(trust: try loadTrustStore(anchors.path, crl: configuration.crl?.path), identities: identities)
    }
}
