import Foundation
import KoerierTestSupport
import Testing

/// Who may read the daemon's files, tried with real files and modes: outside test mode a
/// daemon refuses keys, passwords and a store that others may read; whatever Koerier makes
/// itself is owner-only whatever the caller's umask.
@Suite(.serialized, .ownThreads) struct FileAccessTests {
    /// A rig outside test mode whose identity key is a copy in the rig's own folder.
    /// `purposeKeys` as `DeliveryRig.purposeKeys`, those parties' files copied too.
    static func strictRig(identity: String = "centre", purposeKeys: [String: String] = [:]) throws -> DeliveryRig {
        let rig = try DeliveryRig()
        let pki = rig.folder.appendingPathComponent("pki")
        try FileManager.default.createDirectory(at: pki, withIntermediateDirectories: true)
        let parties = Set([identity] + purposeKeys.values)
        for name in parties.flatMap({ ["\($0).key", "\($0).pem"] }) + ["chain.pem", "ca.pem", "crl.pem"] {
            try FileManager.default.copyItem(at: Repository.pki.appendingPathComponent(name), to: pki.appendingPathComponent(name))
        }
        rig.pki = pki
        rig.purposeKeys = purposeKeys
        rig.identity = identity
        rig.testMode = false
        // The store lives in the rig's folder, made with the test runner's umask.
        try chmod(rig.folder, 0o700)
        try rig.configure(
            recipients: HTTPSDeliveryTests.gp(port: try rig.downPort()),
            delivery: "serve:\n  listen: \"127.0.0.1:0\"\n  admin: \"127.0.0.1:0\"\n  inbox: inbox")
        return rig
    }

    static func chmod(_ url: URL, _ mode: Int) throws {
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
    }

    @Test func daemonsRefuseSecretsOthersMayRead() throws {
        let rig = try Self.strictRig()
        let config = rig.folder.appendingPathComponent("koerier.yaml").path
        let key = rig.pki.appendingPathComponent("centre.key")
        try Self.chmod(key, 0o644)
        for command in [["deliver", "--once"], ["serve"]] {
            let refused = try ProcessRunner.koerier(command + ["--config", config])
            #expect(refused.exitCode != 0, "\(command) started with a key others may read")
            #expect(
                refused.stderr.contains("\(key.path): a secret has mode 644") && refused.stderr.contains("chmod 600"), "\(refused.stderr)")
        }
        // A relay password file others may read is refused the same way.
        try Self.chmod(key, 0o600)
        let password = rig.folder.appendingPathComponent("relay.password")
        try Data("secret\n".utf8).write(to: password)
        try Self.chmod(password, 0o640)
        let employer =
            SMTPDeliveryTests.employer(port: try rig.downPort())
            + "      username: koerier\n      password_file: \(password.path)\n"
        try "recipients:\n\(employer)"
            .write(to: rig.folder.appendingPathComponent("recipients.yaml"), atomically: true, encoding: .utf8)
        let refused = try ProcessRunner.koerier(["deliver", "--once", "--config", config])
        #expect(refused.exitCode != 0 && refused.stderr.contains("\(password.path): a secret has mode 640"), "\(refused.stderr)")
        try Self.chmod(password, 0o600)
        let started = try ProcessRunner.koerier(["deliver", "--once", "--config", config])
        #expect(started.exitCode == 0, "\(started.stderr)")
    }

    @Test func daemonsRefuseAStoreOthersMayRead() throws {
        let rig = try Self.strictRig()
        let config = rig.folder.appendingPathComponent("koerier.yaml").path
        try Self.chmod(rig.pki.appendingPathComponent("centre.key"), 0o600)
        let first = try ProcessRunner.koerier(["deliver", "--once", "--config", config])
        #expect(first.exitCode == 0, "\(first.stderr)")
        let database = rig.folder.appendingPathComponent("koerier.sqlite")
        try Self.chmod(database, 0o644)
        let refused = try ProcessRunner.koerier(["deliver", "--once", "--config", config])
        #expect(refused.exitCode != 0 && refused.stderr.contains("\(database.path): a store file has mode 644"), "\(refused.stderr)")
        try Self.chmod(database, 0o600)
        try Self.chmod(rig.folder, 0o755)
        let folder = try ProcessRunner.koerier(["deliver", "--once", "--config", config])
        #expect(folder.exitCode != 0 && folder.stderr.contains("the store folder has mode 755"), "\(folder.stderr)")
        try Self.chmod(rig.folder, 0o700)
    }

    /// `koerier init` run with umask 022 still makes the store and keys owner-only.
    @Test func whatKoerierMakesIsOwnerOnlyWhateverTheUmask() throws {
        let folder = try Repository.temporaryDirectory()
        let config = folder.appendingPathComponent("koerier.yaml")
        try """
        schemas: \(Repository.schemas.path)
        store:
          path: store/koerier.sqlite
          key_file: store/payload.keys
        """.write(to: config, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.run(
            "/bin/sh", ["-c", "umask 022 && exec \"$0\" init --config \"$1\"", ProcessRunner.koerierBinary, config.path])
        #expect(result.exitCode == 0, "\(result.stderr)")
        for name in ["store", "store/koerier.sqlite", "store/payload.keys"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(name).path)
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
            #expect(mode & 0o077 == 0, "\(name) has mode \(String(mode, radix: 8))")
        }
    }
}
