import Foundation
import KoerierTestSupport
import Testing

@Suite(.ownThreads) struct RenderCommandTests {
    private let config = Repository.config.path

    @Test func rendersALetterAsText() throws {
        let result = try ProcessRunner.koerier([
            "render", "--config", config,
            Repository.samples.appendingPathComponent("return-letter-intake.xml").path,
        ])
        #expect(result.exitCode == 0)
        #expect(result.stdout.hasPrefix("Terugkoppeling — Intake"))
        #expect(result.stdout.contains("S – Subjectief"))
    }

    @Test func rendersHTML() throws {
        let result = try ProcessRunner.koerier([
            "render", "--config", config, "--format", "html",
            Repository.samples.appendingPathComponent("referral-forwarded-urgent.xml").path,
        ])
        #expect(result.exitCode == 0)
        #expect(result.stdout.hasPrefix("<!DOCTYPE html>"))
        #expect(result.stdout.contains("<h1>Consultatieverzoek — SPOED</h1>"))
    }

    @Test func refusesToRenderAnInvalidMessage() throws {
        let path = Repository.invalidSamples.appendingPathComponent("end-before-start.xml").path
        let result = try ProcessRunner.koerier(["render", "--config", config, path])
        #expect(result.exitCode == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("\(path):37: Period/End"))
    }
}
