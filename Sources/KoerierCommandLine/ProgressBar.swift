import Foundation

/// Progress of long work on stderr: a bar redrawn in place on a terminal, a plain line at
/// every tenth otherwise (a log or a pipe gets no control characters).
public final class ProgressBar {
    private let label: String
    private let onTerminal: Bool
    private var lastTenth = -1
    private var lastDraw = Date.distantPast

    public init(_ label: String, onTerminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.onTerminal = onTerminal
    }

    /// `done` of `total` units; `detail` names what is being worked on.
    public func update(_ done: Int, of total: Int, detail: String = "") {
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        if onTerminal {
            // At most ten redraws a second, and always the last one.
            guard done >= total || Date().timeIntervalSince(lastDraw) >= 0.1 else { return }
            lastDraw = Date()
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
            write("\r\(label) [\(bar)] \(Int(fraction * 100))% \(done)/\(total) \(detail)\u{1B}[K")
            if done >= total { write("\n") }
        } else {
            let tenth = Int(fraction * 10)
            guard tenth > lastTenth else { return }
            lastTenth = tenth
            write("\(label): \(tenth * 10)% (\(done)/\(total))\(detail.isEmpty ? "" : " " + detail)\n")
        }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
