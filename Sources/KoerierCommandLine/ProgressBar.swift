import Foundation

/// Progress of long work on stderr: a bar (or, with no known total, a count) redrawn in
/// place on a terminal; plain lines otherwise, at every tenth of a known total or every few
/// seconds, so a log or a pipe gets no control characters.
public final class ProgressBar {
    private let label: String
    private let onTerminal: Bool
    private var lastTenth = -1
    private var lastDraw = Date.distantPast
    private var drewInPlace = false

    public init(_ label: String, onTerminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.onTerminal = onTerminal
    }

    /// `done` of `total` units (nil: not known); `detail` names what is being worked on.
    public func update(_ done: Int, of total: Int?, detail: String = "") {
        let finished = total.map { done >= $0 } ?? false
        if onTerminal {
            // At most ten redraws a second, and always the last one.
            guard finished || Date().timeIntervalSince(lastDraw) >= 0.1 else { return }
            lastDraw = Date()
            var line = "\r\(label) "
            if let total {
                let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
                let filled = Int(fraction * 30)
                line += "[\(String(repeating: "#", count: filled))\(String(repeating: " ", count: 30 - filled))] "
                line += "\(Int(fraction * 100))% \(done)/\(total)"
            } else {
                line += "\(done)"
            }
            write(line + (detail.isEmpty ? "" : " \(detail)") + "\u{1B}[K")
            drewInPlace = true
            if finished { finish() }
        } else if let total {
            let tenth = total > 0 ? min(10, done * 10 / total) : 10
            guard tenth > lastTenth else { return }
            lastTenth = tenth
            write("\(label): \(tenth * 10)% (\(done)/\(total))\(detail.isEmpty ? "" : " " + detail)\n")
        } else {
            guard Date().timeIntervalSince(lastDraw) >= 2 else { return }
            lastDraw = Date()
            write("\(label): \(done)\(detail.isEmpty ? "" : " " + detail)\n")
        }
    }

    /// Ends the line a terminal bar was drawn on (the command's own output follows).
    public func finish() {
        guard drewInPlace else { return }
        drewInPlace = false
        write("\n")
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
