import Foundation
import KoerierTestSupport
import Testing

/// Not a timing test: it checks that `koerier bench parse` ends with the agreed JSON line.
@Suite struct BenchContractTests {
    @Test func benchParseEndsWithTheJSONLine() throws {
        let result = try ProcessRunner.koerier(["bench", "parse", "--config", Repository.config.path,
                                                "--seconds", "0.2", "--rounds", "1"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let last = try #require(result.stdout.split(separator: "\n").last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(object["bench"] as? String == "parse")
        #expect(object["unit"] as? String == "msg/s")
        #expect((object["baseline"] as? String)?.contains("lxml") == true)
        let value = try #require(object["value"] as? Double)
        let baseline = try #require(object["baseline_value"] as? Double)
        let ratio = try #require(object["ratio"] as? Double)
        #expect(value > 0 && baseline > 0)
        #expect(abs(ratio - value / baseline) < 0.01)
        #expect(last.contains("\"unit\":\"msg/s\""))
    }

    @Test func benchSignEndsWithTheJSONLine() throws {
        let result = try ProcessRunner.koerier(["bench", "sign", "--config", Repository.config.path, "--seconds", "0.2", "--rounds", "1"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let last = try #require(result.stdout.split(separator: "\n").last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(object["bench"] as? String == "sign")
        #expect(object["unit"] as? String == "msg/s")
        #expect((object["baseline"] as? String)?.contains("openssl speed") == true)
        let value = try #require(object["value"] as? Double)
        let baseline = try #require(object["baseline_value"] as? Double)
        let ratio = try #require(object["ratio"] as? Double)
        #expect(value > 0 && baseline > 0)
        #expect(abs(ratio - value / baseline) < 0.01)
        for key in ["ratio_signxml", "ecdsa_sign_value", "rsa_verify_value", "ecdsa_verify_value", "signxml_rsa_sign_value",
                    "openssl_ecdsa_sign_value"] {
            #expect(object[key] != nil, "missing \(key)")
        }
    }

    @Test func benchEnqueueEndsWithTheJSONLine() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("koerier.yaml")
        try "schemas: \(Repository.schemas.path)\nsamples: \(Repository.samples.path)\nstore:\n  path: var/koerier.sqlite\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.koerier(["bench", "enqueue", "--config", config.path, "--seconds", "0.2", "--status-records", "500"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let last = try #require(result.stdout.split(separator: "\n").last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(object["bench"] as? String == "enqueue")
        #expect(object["unit"] as? String == "msg/s")
        let value = try #require(object["value"] as? Double), baseline = try #require(object["baseline_value"] as? Double)
        #expect(value > 0 && baseline > 0)
        #expect(abs((object["ratio"] as? Double ?? 0) - value / baseline) < 0.01)
        #expect(object["status_records"] as? Int == 500 && object["status_ms"] != nil && object["value_1_producer"] != nil)
        // The scratch store is removed afterwards.
        let left = (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("var").path)) ?? []
        #expect(left.allSatisfy { !$0.hasPrefix("bench-") })
    }
}
