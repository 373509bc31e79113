import Foundation

/// One row of `Samples/invalid/README.md`: what Koerier and xmllint must say of a file.
public struct InvalidSampleExpectation: Sendable, CustomStringConvertible {
    public let file: String
    public let rule: String
    public let line: Int
    /// The schema xmllint is run with (`referral`, `return-letter`, …).
    public let xmllintSchema: String
    public let xmllintRejects: Bool
    /// The start of Koerier's message (the table shortens long ones with "…").
    public let messagePrefix: String

    public var description: String { file }
}

public enum InvalidSampleTable {
    /// Parses the table; a malformed row fails loudly rather than being skipped.
    public static func load() throws -> [InvalidSampleExpectation] {
        let text = try String(contentsOf: Repository.invalidSamples.appendingPathComponent("README.md"), encoding: .utf8)
        var rows: [InvalidSampleExpectation] = []
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = splitCells(String(line))
            guard cells.count >= 6, let lineNumber = Int(cells[3]) else {
                throw TableError(row: String(line))
            }
            let verdict = cells[4].split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            guard verdict.count == 2, ["accepts", "rejects"].contains(verdict[1]) else { throw TableError(row: String(line)) }
            var prefix = cells[5].replacingOccurrences(of: "\\|", with: "|")
            if prefix.hasSuffix("…") { prefix.removeLast() }
            rows.append(
                InvalidSampleExpectation(
                    file: cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`")),
                    rule: cells[2].trimmingCharacters(in: CharacterSet(charactersIn: "`")),
                    line: lineNumber, xmllintSchema: verdict[0], xmllintRejects: verdict[1] == "rejects",
                    messagePrefix: prefix))
        }
        return rows
    }

    /// Splits a Markdown row on `|`, honouring `\|` inside cells.
    private static func splitCells(_ row: String) -> [String] {
        var cells: [String] = []
        var current = ""
        var previous: Character = " "
        for character in row.dropFirst() {
            if character == "|" && previous != "\\" {
                cells.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(character)
            }
            previous = character
        }
        return cells
    }

    public struct TableError: Error, CustomStringConvertible {
        public let row: String
        public var description: String { "malformed row in Samples/invalid/README.md: \(row)" }
    }
}
