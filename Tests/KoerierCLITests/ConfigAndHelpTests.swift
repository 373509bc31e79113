import Foundation
import KoerierTestSupport
import Testing

@Suite(.ownThreads) struct ConfigAndHelpTests {
    private let sample = Repository.samples.appendingPathComponent("receipt-accepted.xml").path

    @Test func aMissingConfigurationIsAClearSetUpError() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        var environment = ProcessInfo.processInfo.environment
        environment["KOERIER_CONFIG"] = nil
        let result = try ProcessRunner.koerier(["validate", sample], environment: environment, currentDirectory: folder)
        #expect(result.exitCode == 2)
        #expect(result.stderr.contains("Config/koerier.yaml"))
        #expect(result.stderr.contains("--config"))
    }

    @Test func theEnvironmentVariableNamesTheConfiguration() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        var environment = ProcessInfo.processInfo.environment
        environment["KOERIER_CONFIG"] = Repository.config.path
        let result = try ProcessRunner.koerier(["validate", sample], environment: environment, currentDirectory: folder)
        #expect(result.exitCode == 0, "\(result.stderr)")
    }

    @Test func pathsAreRelativeToTheConfigurationFile() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: Repository.schemas, to: folder.appendingPathComponent("xsd"))
        let configFolder = folder.appendingPathComponent("etc")
        try FileManager.default.createDirectory(at: configFolder, withIntermediateDirectories: true)
        let config = configFolder.appendingPathComponent("koerier.yaml")
        try "schemas: ../xsd\n".write(to: config, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.koerier(["validate", "--config", config.path, sample], currentDirectory: Repository.root)
        #expect(result.exitCode == 0, "\(result.stderr)")
    }

    @Test(arguments: [
        ("schemas: ../Schemas\nlimmits:\n  max_depth: 40\n", "koerier.yaml:2: unknown key 'limmits'"),
        ("schemas: ../Schemas\nlimits:\n  max_depth: 4000\n", "koerier.yaml:3: 'limits.max_depth' must be a whole number from 16 to 256"),
        ("schemas: [unclosed\n", "koerier.yaml:2: not valid YAML"),
        ("schemas: ./nowhere\n", "cannot load the schemas"),
        ("schemas: ../Schemas\ntrust:\n  crl: crl.pem\n", "'trust.crl' needs 'trust.anchors'"),
        ("schemas: ../Schemas\ntrust:\n  anchor: ca.pem\n", "koerier.yaml:3: unknown key 'trust.anchor'"),
        ("schemas: ../Schemas\nstore:\n  backend: oracle\n", "koerier.yaml:3: 'store.backend' is 'oracle'; expected sqlite or postgres"),
        ("schemas: ../Schemas\nstore:\n  backend: postgres\n", "koerier.yaml:3: 'store.backend: postgres' needs 'store.url'"),
        ("schemas: ../Schemas\nstore:\n  url: postgres://k@h/db\n", "koerier.yaml:3: 'store.url' is for 'backend: postgres'"),
        (
            "schemas: ../Schemas\nstore:\n  backend: postgres\n  url: x\n  pool_size: 1\n",
            "koerier.yaml:5: 'store.pool_size' must be a whole number from 2 to 200"
        ),
        (
            "schemas: ../Schemas\nserve:\n  fhir:\n    base_url: https://c.test/fhir\n    issuers:\n      - issuer: zd\n        audience: a\n        key: k.pem\n",
            "client_certificate' is missing"
        ),
    ])
    func badConfigurationsAreLocated(_ text: String, _ expected: String) throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("koerier.yaml")
        try text.write(to: config, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.koerier(["validate", "--config", config.path, sample])
        #expect(result.exitCode == 2)
        #expect(result.stderr.contains(expected), "\(result.stderr)")
    }

    @Test(arguments: [
        ([], ["validate", "render", "sign", "verify", "pki", "deliver", "serve", "--config"]),
        (["sign"], ["--config", "--key", "--cert", "--chain", "--out"]),
        (["verify"], ["--config", "--trust", "--crl", "--answers", "sender"]),
        (["pki", "init"], ["--config", "TEST ONLY", "DIR"]),
        (["validate"], ["--config", "--quiet", "--trust", "--crl", "FILE", "Exits 0"]),
        (["render"], ["--config", "--format", "text", "html"]),
    ])
    func helpIsCompleteForEveryCommand(_ command: [String], _ mentions: [String]) throws {
        let result = try ProcessRunner.koerier(command + ["--help"])
        #expect(result.exitCode == 0)
        for word in mentions { #expect(result.stdout.contains(word), "\(command) --help lacks \(word)") }
    }

    /// The benchmarks live in their own executable, not in the shipped one.
    @Test(arguments: [
        ([String](), ["parse", "deliver", "JSON", "--config"]),
        (["parse"], ["--config", "--seconds", "--rounds", "lxml"]),
    ])
    func benchHelpIsCompleteAndNotInTheShippedBinary(_ command: [String], _ mentions: [String]) throws {
        let result = try ProcessRunner.run(ProcessRunner.benchBinary, command + ["--help"])
        #expect(result.exitCode == 0)
        for word in mentions { #expect(result.stdout.contains(word), "koerier-bench \(command) --help lacks \(word)") }
        #expect(try ProcessRunner.koerier(["bench", "parse"]).exitCode != 0)
    }
}
