import Foundation

/// A baseline measured by a long-lived child Python process. The caller's script sets up
/// and defines `once()` (one unit of work) and `VERSION`; the harness below warms up, says
/// it is ready, then for each number of seconds read on stdin runs `once()` for that long
/// and answers one JSON line: {"rate": …, "runs": …, "version": …}.
final class PythonBaseline {
    static let harness = #"""

        import json as _json, sys as _sys, time as _time
        _end = _time.perf_counter() + 0.3
        while _time.perf_counter() < _end:
            once()
        print(_json.dumps({"ready": True}), flush=True)
        for _line in _sys.stdin:
            _seconds = float(_line)
            _runs = 0
            _start = _time.perf_counter()
            while True:
                for _ in range(4):
                    once()
                _runs += 4
                if _time.perf_counter() - _start >= _seconds:
                    break
            _elapsed = _time.perf_counter() - _start
            print(_json.dumps({"rate": _runs / _elapsed, "runs": _runs, "version": VERSION}), flush=True)
        """#

    struct Measurement: Decodable {
        let rate: Double
        let runs: Int
        let version: String
    }

    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffered = Data()
    private let name: String

    init(python: String, name: String, script: String, arguments: [String]) throws {
        self.name = name
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-c", script + PythonBaseline.harness] + arguments
        process.standardInput = input
        process.standardOutput = output
        do {
            try process.run()
        } catch {
            throw CommandFailure("cannot start \(python) for the \(name) baseline: \(error)")
        }
        _ = try readLine()  // ready: the library is loaded and warm
    }

    func measure(seconds: Double) throws -> Measurement {
        input.fileHandleForWriting.write(Data("\(seconds)\n".utf8))
        guard let measurement = try? JSONDecoder().decode(Measurement.self, from: try readLine()) else {
            throw CommandFailure("the \(name) baseline answered something unexpected")
        }
        return measurement
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    private func readLine() throws -> Data {
        while true {
            if let newline = buffered.firstIndex(of: 0x0A) {
                let line = buffered[buffered.startIndex..<newline]
                buffered = Data(buffered[(newline + 1)...])
                return Data(line)
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                process.waitUntilExit()
                throw CommandFailure(
                    "the \(name) baseline stopped (exit \(process.terminationStatus)); is it installed? (.ci/setup installs it)")
            }
            buffered.append(chunk)
        }
    }
}
