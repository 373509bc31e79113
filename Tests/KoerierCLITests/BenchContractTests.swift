import Foundation
import KoerierTestSupport
import Testing

/// Not timing tests: each checks that a `koerier-bench` command ends with the agreed JSON line.
@Suite(.ownThreads) struct BenchContractTests {
    /// Runs a bench and checks the common contract of its last line; returns the object.
    private func benchLine(_ arguments: [String], bench: String, stderr check: (String) -> Void = { _ in }) throws -> [String: Any] {
        let result = try ProcessRunner.run(ProcessRunner.benchBinary, arguments)
        #expect(result.exitCode == 0, "\(result.stderr)")
        check(result.stderr)
        let last = try #require(result.stdout.split(separator: "\n").last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(object["bench"] as? String == bench)
        #expect(object["unit"] as? String == "msg/s")
        #expect(last.contains("\"unit\":\"msg/s\""))
        let value = try #require(object["value"] as? Double)
        let baseline = try #require(object["baseline_value"] as? Double)
        let ratio = try #require(object["ratio"] as? Double)
        #expect(value > 0 && baseline > 0)
        #expect(abs(ratio - value / baseline) < 0.01)
        return object
    }

    @Test func benchParseEndsWithTheJSONLine() throws {
        let object = try benchLine(["parse", "--config", Repository.config.path, "--seconds", "0.2", "--rounds", "1"], bench: "parse")
        #expect((object["baseline"] as? String)?.contains("lxml") == true)
    }

    @Test func benchSignEndsWithTheJSONLine() throws {
        let object = try benchLine(["sign", "--config", Repository.config.path, "--seconds", "0.2", "--rounds", "1"], bench: "sign")
        #expect((object["baseline"] as? String)?.contains("openssl speed") == true)
        for key in [
            "ratio_signxml", "ecdsa_sign_value", "rsa_verify_value", "ecdsa_verify_value", "signxml_rsa_sign_value",
            "openssl_ecdsa_sign_value",
        ] {
            #expect(object[key] != nil, "missing \(key)")
        }
    }

    @Test func benchEnqueueEndsWithTheJSONLine() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("koerier.yaml")
        try "schemas: \(Repository.schemas.path)\nsamples: \(Repository.samples.path)\nstore:\n  path: var/koerier.sqlite\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let object = try benchLine(["enqueue", "--config", config.path, "--seconds", "0.2", "--status-records", "500"], bench: "enqueue")
        #expect(object["status_records"] as? Int == 500 && object["status_ms"] != nil && object["value_1_producer"] != nil)
        // The scratch store is removed afterwards.
        let left = (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("var").path)) ?? []
        #expect(left.allSatisfy { !$0.hasPrefix("bench-") })
    }

    @Test func benchDeliverEndsWithTheJSONLine() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("koerier.yaml")
        try "schemas: \(Repository.schemas.path)\nsamples: \(Repository.samples.path)\nstore:\n  path: var/koerier.sqlite\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let object = try benchLine(["deliver", "--config", config.path, "--messages", "12", "--concurrency", "2"], bench: "deliver")
        #expect(object["smtp_value"] != nil && object["ratio_smtp"] != nil && object["messages"] as? Int == 12)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("var").path)) ?? []
        #expect(left.allSatisfy { !$0.hasPrefix("bench-") })
    }

    @Test func benchIntakeEndsWithTheJSONLine() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("koerier.yaml")
        try "schemas: \(Repository.schemas.path)\nsamples: \(Repository.samples.path)\nstore:\n  path: var/koerier.sqlite\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let object = try benchLine(["intake", "--config", config.path, "--messages", "16", "--clients", "4"], bench: "intake") {
            // Not a terminal: the long preparation reports plain progress lines on stderr.
            #expect($0.contains("signing referrals: 100% (64/64)") && !$0.contains("\r"), "\($0)")
        }
        #expect(object["value_1_client"] != nil && object["value_new_connection_each"] != nil && object["clients"] as? Int == 4)
        // Where a letter's processor time goes: each step of the intake, and the whole process.
        let stages = (object["stages_us_one_thread"] as? [String: Any] ?? [:]).mapValues { ($0 as? NSNumber)?.doubleValue ?? 0 }
        #expect(Set(stages.keys) == ["decode", "verify", "duplicate_check", "receipt", "store"] && stages.values.allSatisfy { $0 > 0 })
        #expect(((object["cpu_us_per_letter"] as? NSNumber)?.doubleValue ?? 0) > 0)
        // The ceiling lies between the measured ratio and 1 (RSA and the bare listener cost something).
        let ceiling = (object["ratio_ceiling"] as? NSNumber)?.doubleValue ?? 0
        #expect(ceiling > ((object["ratio"] as? NSNumber)?.doubleValue ?? 1) && ceiling < 1)
        #expect((object["baseline"] as? String)?.hasPrefix("crypto bound") == true)
    }

    @Test func benchFHIRIntakeEndsWithTheJSONLine() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("koerier.yaml")
        try "schemas: \(Repository.schemas.path)\nsamples: \(Repository.samples.path)\nstore:\n  path: var/koerier.sqlite\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let object = try benchLine(["fhir-intake", "--config", config.path, "--messages", "16", "--clients", "4"], bench: "fhir-intake")
        #expect(object["clients"] as? Int == 4 && object["messages"] as? Int == 16)
        #expect((object["baseline"] as? String)?.hasPrefix("XML intake") == true)
    }
}
