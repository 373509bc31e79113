import Foundation
import Testing

/// Debian's headless Chromium as the reader of what Koerier draws for people: the DOM after
/// the page ran, its console, and screenshots.
public enum Chromium {
    /// One headless run with a profile of its own: `arguments` before the URL.
    public static func run(_ arguments: [String], url: String, profile: URL) throws -> ProcessResult {
        try ProcessRunner.run(
            "/usr/bin/chromium",
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                "--user-data-dir=\(profile.path)", "--enable-logging=stderr", "--v=0",
            ] + arguments + [url])
    }

    /// Lines Chromium logged from the page's console (errors, CSP refusals, script output).
    public static func consoleLines(_ stderr: String) -> [String] {
        stderr.split(separator: "\n").map(String.init).filter { $0.contains("CONSOLE") || $0.contains("Content Security Policy") }
    }

    /// A screenshot of `url` at `width` × `height`; checked to be a PNG of that width with
    /// something on it, and kept in $KOERIER_SCREENSHOTS (a folder, e.g. docs/) when set.
    public static func screenshot(url: String, profile: URL, to file: URL, width: Int, height: Int) throws {
        let shot = try run(
            ["--hide-scrollbars", "--window-size=\(width),\(height)", "--screenshot=\(file.path)"], url: url, profile: profile)
        #expect(shot.exitCode == 0, "\(shot.stderr.suffix(2_000))")
        let data = try Data(contentsOf: file)
        #expect(data.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let pngWidth = data.count > 24 ? data[16..<20].reduce(0) { $0 << 8 | Int($1) } : 0
        #expect(pngWidth == width)
        #expect(data.count > 15_000, "a blank page would compress to almost nothing")
        if let folder = ProcessInfo.processInfo.environment["KOERIER_SCREENSHOTS"] {
            let target = URL(fileURLWithPath: folder).appendingPathComponent(file.lastPathComponent)
            try? FileManager.default.removeItem(at: target)
            try? FileManager.default.copyItem(at: file, to: target)
        }
    }
}
