import ArgumentParser
import Foundation

@main
enum Entry {
    static func main() async {
        SignalMask.unblockAll()
        await KoerierBench.main()
    }
}

/// The benchmarks, outside the shipped `koerier` binary: they start peers (listeners,
/// SMTP sinks, Python baselines) that a daemon has no business carrying.
struct KoerierBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "koerier-bench",
        abstract: "Benchmarks; each measures an independent baseline in the same run and ends with one JSON line.",
        discussion: """
            Every bench takes --config FILE (default: $KOERIER_CONFIG, else Config/koerier.yaml).
            The last line of every benchmark is
            {"bench":NAME,"value":N,"unit":"msg/s","baseline":WHAT,"baseline_value":N,"ratio":N,...}
            """,
        subcommands: [
            BenchParseCommand.self, BenchSignCommand.self, BenchEnqueueCommand.self, BenchDeliverCommand.self,
            BenchIntakeCommand.self, BenchFHIRIntakeCommand.self,
        ]
    )
}

/// The closing JSON line every benchmark prints.
struct BenchResult {
    let bench: String
    let value: Double
    let baseline: String
    let baselineValue: Double
    var extra: [String: Any] = [:]

    var ratio: Double { baselineValue > 0 ? value / baselineValue : 0 }

    func jsonLine() throws -> String {
        var object: [String: Any] = [
            "bench": bench, "value": rounded(value), "unit": "msg/s",
            "baseline": baseline, "baseline_value": rounded(baselineValue), "ratio": (ratio * 1000).rounded() / 1000,
        ]
        object.merge(extra) { current, _ in current }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    private func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }
}

/// Runs `body` repeatedly for about `seconds` after a short warm-up; returns runs per second.
func measureRate(seconds: Double, _ body: () throws -> Void) rethrows -> (rate: Double, runs: Int) {
    let clock = ContinuousClock()
    let warmUpEnd = clock.now.advanced(by: .milliseconds(200))
    while clock.now < warmUpEnd { try body() }
    var runs = 0
    let start = clock.now
    let deadline = start.advanced(by: .milliseconds(Int(seconds * 1000)))
    repeat {
        for _ in 0..<16 { try body() }
        runs += 16
    } while clock.now < deadline
    let elapsed = start.duration(to: clock.now)
    let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return (Double(runs) / elapsedSeconds, runs)
}
