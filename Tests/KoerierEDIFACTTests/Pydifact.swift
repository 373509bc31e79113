import Foundation
import KoerierEDIFACT
import KoerierTestSupport

/// pydifact 0.2.3, an independent EDIFACT parser, reading what the writer wrote.
enum Pydifact {
    struct Segment: Decodable, Equatable {
        let tag: String
        let elements: [[String]]
    }

    struct Failure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    struct Parsed: Decodable {
        let segments: [Segment]
        let counters: [Int]
    }

    /// Its tokenizer takes no counter on a tag, so `TXT:n+` becomes `TXT+` first (at line
    /// starts only, where segments begin); the counters are reported beside the segments.
    /// Tests/Peers/medvri_parse.py, shared with the delivery tests.
    private static let script = Repository.root.appendingPathComponent("Tests/Peers/medvri_parse.py").path

    static func parse(_ data: Data, charset: EDIFACTCharset) async throws -> Parsed {
        let python = try await ProcessRunner.offPool { try PythonTool.ensure(package: "pydifact==0.2.3", module: "pydifact") }
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("letter.edi")
        try data.write(to: file)
        let result = try await ProcessRunner.runOffPool(python, [script, file.path, charset.rawValue])
        guard result.exitCode == 0 else { throw Failure(message: "pydifact failed: \(result.stderr)") }
        return try JSONDecoder().decode(Parsed.self, from: Data(result.stdout.utf8))
    }

    /// Both parsers' segments in one form: pydifact drops trailing empty components, so
    /// they are dropped on both sides (keeping one).
    static func normalised(_ elements: [[String]]) -> [[String]] {
        elements.map { element in
            var components = element
            while components.count > 1, components.last?.isEmpty == true { components.removeLast() }
            return components
        }
    }
}
