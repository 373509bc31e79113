import Foundation
import KoerierTestSupport
import Testing

/// A fase-2 return letter read with its trajectory's earlier letters: the HTML draws the
/// spinnenweb (this phase over the intake's) and the course of 4DKL and PHQ-9, checked in
/// headless Chromium; the text keeps the numbers.
@Suite(.ownThreads) struct LetterChartTests {
    private let config = Repository.config.path
    private func sample(_ name: String) -> String { Repository.samples.appendingPathComponent(name).path }

    private var phaseTwoWithHistory: [String] {
        [
            "render", "--config", config, "--earlier", sample("return-letter-intake.xml"), "--earlier",
            sample("return-letter-fase-1.xml"), sample("return-letter-fase-2.xml"),
        ]
    }

    @Test func theFasePhaseTwoLetterDrawsItsSpinnenwebAndCourse() throws {
        let html = try ProcessRunner.koerier(phaseTwoWithHistory + ["--format", "html"])
        #expect(html.exitCode == 0, "\(html.stderr)")
        #expect(!html.stdout.contains("<script"))
        // The fase-2 scores (6,5,6,6,5 … ) over the intake's, and the course as drawn points.
        #expect(html.stdout.contains("Spinnenweb Positieve Gezondheid: Fase 2 over Intake"))
        #expect(html.stdout.contains("Verloop 4DKL-distress en PHQ-9 per fase"))
        // The charts follow the measurements they draw: the next heading after "Metingen".
        let measurements = try #require(html.stdout.range(of: "<h2>Metingen</h2>"))
        let nextHeading = try #require(html.stdout.range(of: "<h2>", range: measurements.upperBound..<html.stdout.endIndex))
        #expect(html.stdout[nextHeading.lowerBound...].hasPrefix("<h2>Grafieken</h2>"))

        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let page = folder.appendingPathComponent("letter-fase-2.html")
        try html.stdout.write(to: page, atomically: true, encoding: .utf8)
        let profile = folder.appendingPathComponent("profile")
        let dom = try Chromium.run(["--dump-dom"], url: page.absoluteString, profile: profile)
        #expect(dom.exitCode == 0, "\(dom.stderr.suffix(2_000))")
        #expect(Chromium.consoleLines(dom.stderr).isEmpty, "\(Chromium.consoleLines(dom.stderr))")
        // Chromium parsed two SVG figures: the web (six axes, rings, two polygons) and the course.
        #expect(dom.stdout.components(separatedBy: "<svg").count - 1 == 2)
        for dimension in [
            "Lichaamsfuncties", "Mentaal welbevinden", "Zingeving", "Kwaliteit van leven", "Meedoen", "Dagelijks functioneren",
        ] {
            #expect(dom.stdout.contains(">\(dimension)</text>"), "\(dimension)")
        }
        // The course's labels: 4DKL distress 24 → 20 → 15 and PHQ-9 11 → 9 → 7, phase by phase.
        for value in ["24", "20", "15", "11", "9", "7"] { #expect(dom.stdout.contains(">\(value)</text>"), "\(value)") }
        try Chromium.screenshot(
            url: page.absoluteString, profile: profile, to: folder.appendingPathComponent("letter-spinnenweb.png"), width: 900, height: 2500
        )
    }

    @Test func theTextKeepsTheNumbers() throws {
        let text = try ProcessRunner.koerier(phaseTwoWithHistory)
        #expect(text.exitCode == 0, "\(text.stderr)")
        #expect(text.stdout.contains("lichaamsfuncties 6, mentaal welbevinden 5"))
        #expect(text.stdout.contains("Verloop"))
        #expect(text.stdout.contains("Intake: 4DKL-distress 24/32, PHQ-9 11/27"))
        #expect(text.stdout.contains("Fase 2: 4DKL-distress 15/32, PHQ-9 7/27"))
        #expect(!text.stdout.contains("<svg"))
    }

    @Test func anEarlierLetterOfALaterPhaseIsRefused() throws {
        let result = try ProcessRunner.koerier([
            "render", "--config", config, "--earlier", sample("return-letter-fase-3.xml"), sample("return-letter-fase-2.xml"),
        ])
        #expect(result.exitCode == 1 && result.stdout.isEmpty)
        #expect(result.stderr.contains("is of phase fase-3, not before fase-2"), "\(result.stderr)")
    }

    /// Letter text is the sender's: markup in it is shown as text, and a script in it never
    /// runs (it is escaped, and the page's CSP allows no script anyway).
    @Test func scriptInTheLetterTextIsShownAndNeverRuns() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let hostile = folder.appendingPathComponent("fase-2-hostile.xml")
        let injected = "<script>document.title='owned';document.body.textContent='owned'</script>"
        let xml = try String(contentsOfFile: sample("return-letter-fase-2.xml"), encoding: .utf8).replacingOccurrences(
            of: "Cliënte slaapt beter", with: "Cliënte slaapt beter " + injected.replacingOccurrences(of: "<", with: "&lt;"))
        try xml.write(to: hostile, atomically: true, encoding: .utf8)
        let html = try ProcessRunner.koerier([
            "render", "--config", config, "--format", "html", "--earlier", sample("return-letter-intake.xml"), hostile.path,
        ])
        #expect(html.exitCode == 0, "\(html.stderr)")
        #expect(!html.stdout.contains("<script") && html.stdout.contains("&lt;script&gt;document.title="))
        let page = folder.appendingPathComponent("hostile.html")
        try html.stdout.write(to: page, atomically: true, encoding: .utf8)
        let dom = try Chromium.run(["--dump-dom"], url: page.absoluteString, profile: folder.appendingPathComponent("profile"))
        #expect(dom.stdout.contains("<title>Terugkoppeling"), "\(dom.stdout.prefix(400))")
        #expect(dom.stdout.contains("Spinnenweb Positieve Gezondheid: Fase 2 over Intake"))
        #expect(!dom.stdout.contains("<script"))
        #expect(Chromium.consoleLines(dom.stderr).isEmpty, "\(Chromium.consoleLines(dom.stderr))")
    }
}
