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
}
