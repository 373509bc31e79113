import Foundation

/// A certificate hierarchy for tests, samples and demos: TEST ONLY, never for real care
/// data. Made with the `openssl` command: a root CA, an intermediate CA, and certificates
/// for the parties of the domain, plus an expired one, one from an untrusted CA, a weak
/// RSA-1024 one, one without digitalSignature, one without keyEncipherment, and one that
/// names its URA only in the subject serialNumber, for the tests of the verifier.
///
/// The care providers' certificates carry their identity as the UZI register does: an
/// otherName 2.5.5.5 in subjectAltName, `<OID CA>-1-<UZI-nr>-S-<URA>-00.000-<AGB>`. Most
/// also keep Koerier's older TEST ONLY convention, `URA 90000123` in the subject
/// serialNumber, which counts only in test mode.
public enum TestPKI {
    public struct Party: Sendable {
        public let file: String
        public let organisation: String
        /// The UZI server certificate identity (otherName 2.5.5.5), if any.
        public var uzi: UZI?
        /// The subject serialNumber (`URA 90000123`), if any: TEST ONLY.
        public var identifier: String?
        public let key: KeyKind
        public var start = "20250101000000Z"
        public var end = "20451231235959Z"
        public var issuer = Issuer.intermediate
        /// nil: digitalSignature with keyEncipherment (RSA) or keyAgreement (EC).
        public var keyUsage: String?
    }

    /// What a UZI server certificate (pastype S) names: the holder's UZI number, the
    /// organisation's URA (the Abonnee-nr) and an AGB code (`00000000`: none).
    public struct UZI: Sendable {
        public let uziNumber: String
        public let ura: String
        public var agb = "00000000"

        /// The otherName value, in the UZI register's form.
        public var otherName: String { "\(TestPKI.uziIssuerOID)-1-\(uziNumber)-S-\(ura)-00.000-\(agb)" }
    }

    /// The UZI register's OID for its server CA, as the test certificates name their issuer.
    public static let uziIssuerOID = "2.16.528.1.1003.1.3.5.5.2"

    public enum KeyKind: Sendable {
        case rsa(bits: Int)
        case p256
    }

    public enum Issuer: Sendable {
        case intermediate, untrustedRoot
    }

    private static let deLinde = "Huisartsenpraktijk De Linde"
    private static let gp = UZI(uziNumber: "00012301", ura: "90000123", agb: "01012345")

    public static let parties: [Party] = [
        Party(file: "gp", organisation: deLinde, uzi: gp, identifier: "URA 90000123", key: .rsa(bits: 2048)),
        Party(
            file: "centre", organisation: "Stress en Burn-out Centrum Haaglanden", uzi: UZI(uziNumber: "00045601", ura: "90000456"),
            identifier: "URA 90000456", key: .rsa(bits: 2048)),
        Party(
            file: "centre-ec", organisation: "Stress en Burn-out Centrum Haaglanden", uzi: UZI(uziNumber: "00045602", ura: "90000456"),
            identifier: "URA 90000456", key: .p256),
        // The centre's mail key: a separate key per purpose (identity.smime).
        Party(
            file: "centre-mail", organisation: "Stress en Burn-out Centrum Haaglanden",
            uzi: UZI(uziNumber: "00045603", ura: "90000456"), identifier: "URA 90000456", key: .rsa(bits: 2048)),
        Party(
            file: "arbo", organisation: "Arbodienst Voorbeeld", uzi: UZI(uziNumber: "00078901", ura: "90000789"),
            identifier: "URA 90000789", key: .rsa(bits: 2048)),
        Party(file: "employer", organisation: "Gemeente Voorbeeldstad, afdeling HR", key: .p256),
        Party(
            file: "expired", organisation: deLinde, uzi: gp, identifier: "URA 90000123", key: .rsa(bits: 2048),
            start: "20200101000000Z", end: "20210101000000Z"),
        Party(file: "untrusted", organisation: deLinde, uzi: gp, identifier: "URA 90000123", key: .rsa(bits: 2048), issuer: .untrustedRoot),
        Party(file: "weak", organisation: deLinde, uzi: gp, identifier: "URA 90000123", key: .rsa(bits: 1024)),
        Party(
            file: "no-signing", organisation: deLinde, uzi: gp, identifier: "URA 90000123", key: .rsa(bits: 2048),
            keyUsage: "keyEncipherment"),
        Party(
            file: "sign-only", organisation: deLinde, uzi: gp, identifier: "URA 90000123", key: .rsa(bits: 2048),
            keyUsage: "digitalSignature"),
        Party(file: "revoked", organisation: deLinde, uzi: gp, identifier: "URA 90000123", key: .rsa(bits: 2048)),
        // The older convention only: a URA in the subject serialNumber, no UZI otherName.
        Party(file: "legacy-serial", organisation: deLinde, identifier: "URA 90000123", key: .rsa(bits: 2048)),
    ]

    /// The S/MIME certificate files a partner hands over: its certificate, then the
    /// intermediate (`NAME-smime.pem`), for these parties.
    public static let smimeBundles = ["employer"]

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Creates the hierarchy in `directory` (created if missing): `ca.pem` is the anchor,
    /// `chain.pem` the intermediate, `NAME.key`/`NAME.pem` each party's key and certificate.
    public static func create(in directory: URL, openssl: String = "openssl") throws {
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        let work = directory.appendingPathComponent(".ca")
        try? fileManager.removeItem(at: work)
        try fileManager.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? fileManager.removeItem(at: work) }
        let run = { (arguments: [String]) throws in try runOpenSSL(openssl, arguments, in: directory) }

        try config.write(to: work.appendingPathComponent("ca.cnf"), atomically: true, encoding: .utf8)
        for name in ["root", "intermediate", "rogue"] {
            try "".write(to: work.appendingPathComponent("\(name).index"), atomically: true, encoding: .utf8)
            try "1000\n".write(to: work.appendingPathComponent("\(name).serial"), atomically: true, encoding: .utf8)
        }
        // Root and rogue root: self-signed. Intermediate: signed by the root.
        try run([
            "req", "-x509", "-new", "-newkey", "rsa:3072", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "7300",
            "-subj", "/C=NL/O=Koerier TEST ONLY/CN=Koerier Test Root CA (TEST ONLY)", "-config", ".ca/ca.cnf", "-extensions", "v3_ca",
        ])
        try run([
            "req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", ".ca/rogue.key", "-out", "untrusted-ca.pem",
            "-days", "7300", "-subj", "/C=NL/O=Rogue TEST ONLY/CN=Rogue Root CA (TEST ONLY)", "-config", ".ca/ca.cnf", "-extensions",
            "v3_ca",
        ])
        try run([
            "req", "-new", "-newkey", "rsa:3072", "-nodes", "-keyout", "intermediate.key", "-out", ".ca/intermediate.csr",
            "-subj", "/C=NL/O=Koerier TEST ONLY/CN=Koerier Test Issuing CA (TEST ONLY)",
        ])
        try run([
            "ca", "-batch", "-config", ".ca/ca.cnf", "-name", "root_ca", "-extensions", "v3_intermediate", "-notext",
            "-startdate", "20250101000000Z", "-enddate", "20451231235959Z", "-in", ".ca/intermediate.csr", "-out", "chain.pem",
        ])

        for party in parties {
            let key = party.file + ".key"
            switch party.key {
            case .rsa(let bits):
                try run(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:\(bits)", "-out", key])
            case .p256:
                try run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key])
            }
            var subject = "/C=NL/O=\(party.organisation)/CN=\(party.organisation) (TEST ONLY)"
            if let identifier = party.identifier { subject += "/serialNumber=\(identifier)" }
            try run(["req", "-new", "-key", key, "-out", ".ca/\(party.file).csr", "-subj", subject])
            let extensions = work.appendingPathComponent("\(party.file).ext")
            let keyUsage: String
            switch party.key {
            case .rsa: keyUsage = party.keyUsage ?? "digitalSignature, keyEncipherment"
            case .p256: keyUsage = party.keyUsage ?? "digitalSignature, keyAgreement"
            }
            let otherName = party.uzi.map { ", otherName:\(UZIName.typeID);IA5STRING:\($0.otherName)" } ?? ""
            try """
            basicConstraints = critical, CA:FALSE
            keyUsage = critical, \(keyUsage)
            extendedKeyUsage = serverAuth, clientAuth, emailProtection
            subjectAltName = DNS:localhost, IP:127.0.0.1\(otherName)
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid

            """.write(to: extensions, atomically: true, encoding: .utf8)
            try run([
                "ca", "-batch", "-config", ".ca/ca.cnf", "-name", party.issuer == .intermediate ? "intermediate_ca" : "rogue_ca",
                "-extfile", ".ca/\(party.file).ext", "-notext", "-startdate", party.start, "-enddate", party.end,
                "-in", ".ca/\(party.file).csr", "-out", party.file + ".pem",
            ])
        }
        let intermediate = try Data(contentsOf: directory.appendingPathComponent("chain.pem"))
        for name in smimeBundles {
            try (try Data(contentsOf: directory.appendingPathComponent("\(name).pem")) + intermediate).write(
                to: directory.appendingPathComponent("\(name)-smime.pem"))
        }
        // Revoke one certificate; crl.pem holds the CRLs of both CAs (OpenSSL checks every
        // certificate in the chain against its issuer's CRL).
        try run(["ca", "-batch", "-config", ".ca/ca.cnf", "-name", "intermediate_ca", "-revoke", "revoked.pem"])
        try run([
            "ca", "-batch", "-config", ".ca/ca.cnf", "-name", "intermediate_ca", "-gencrl", "-crldays", "7300", "-out",
            ".ca/intermediate.crl",
        ])
        try run(["ca", "-batch", "-config", ".ca/ca.cnf", "-name", "root_ca", "-gencrl", "-crldays", "7300", "-out", ".ca/root.crl"])
        let crls = try [work.appendingPathComponent("intermediate.crl"), work.appendingPathComponent("root.crl")].map {
            try Data(contentsOf: $0)
        }
        try crls.reduce(Data(), +).write(to: directory.appendingPathComponent("crl.pem"))
        try """
        TEST ONLY. This certificate hierarchy was made by `koerier pki init` for tests, samples and
        demos. Its private keys are public. Never use it for real care data.

        ca.pem            trust anchor (root CA)           chain.pem   intermediate CA
        NAME.key/.pem     key and certificate per party:   \(parties.map(\.file).joined(separator: ", "))
        NAME-smime.pem    certificate and intermediate, as an S/MIME recipient hands them over: \(smimeBundles.joined(separator: ", "))
        untrusted-ca.pem  a root nobody trusts (issuer of untrusted.pem)

        Care providers' certificates name them as the UZI register does: subjectAltName
        otherName 2.5.5.5, IA5String <OID CA>-1-<UZI-nr>-S-<URA>-00.000-<AGB>. Most also carry
        `URA nnnnnnnn` in the subject serialNumber, which Koerier honours only in test mode;
        legacy-serial carries only that.
        crl.pem           CRLs of both CAs; revoked.pem is revoked

        """.write(to: directory.appendingPathComponent("README.txt"), atomically: true, encoding: .utf8)
    }

    private static func runOpenSSL(_ openssl: String, _ arguments: [String], in directory: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [openssl] + arguments
        process.currentDirectoryURL = directory
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(
                description: "openssl \(arguments.prefix(2).joined(separator: " ")) failed: "
                    + String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    private static let config = """
        [ req ]
        distinguished_name = dn
        [ dn ]
        [ v3_ca ]
        basicConstraints = critical, CA:TRUE
        keyUsage = critical, keyCertSign, cRLSign
        subjectKeyIdentifier = hash
        [ v3_intermediate ]
        basicConstraints = critical, CA:TRUE, pathlen:0
        keyUsage = critical, keyCertSign, cRLSign
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid
        [ policy_any ]
        countryName = optional
        organizationName = optional
        commonName = supplied
        serialNumber = optional
        \(caSection("root_ca", database: "root", certificate: "ca.pem", key: "ca.key"))
        \(caSection("intermediate_ca", database: "intermediate", certificate: "chain.pem", key: "intermediate.key"))
        \(caSection("rogue_ca", database: "rogue", certificate: "untrusted-ca.pem", key: ".ca/rogue.key"))
        """

    private static func caSection(_ name: String, database: String, certificate: String, key: String) -> String {
        """
        [ \(name) ]
        database = .ca/\(database).index
        serial = .ca/\(database).serial
        new_certs_dir = .ca
        certificate = \(certificate)
        private_key = \(key)
        default_md = sha256
        policy = policy_any
        unique_subject = no
        email_in_dn = no
        """
    }
}
