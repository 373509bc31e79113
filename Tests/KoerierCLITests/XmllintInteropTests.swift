import Foundation
import KoerierModel
import KoerierTestSupport
import KoerierXML
import Testing

/// xmllint (Debian libxml2-utils) is the independent judge of the schemas.
@Suite(.ownThreads) struct XmllintInteropTests {
    private func xmllint(schema: String, file: String) throws -> ProcessResult {
        try ProcessRunner.run(
            "xmllint",
            [
                "--noout", "--nonet", "--schema",
                Repository.schemas.appendingPathComponent("\(schema).xsd").path, file,
            ])
    }

    @Test func xmllintIsInstalled() throws {
        let result = try ProcessRunner.run("xmllint", ["--version"])
        #expect(result.exitCode == 0, "install libxml2-utils (the README's set-up command does)")
    }

    @Test(arguments: Repository.validSampleFiles)
    func xmllintAcceptsEveryValidSample(_ file: URL) throws {
        let kind = try #require(MessageKind.allCases.first { file.lastPathComponent.hasPrefix($0.rawValue) })
        let result = try xmllint(schema: kind.rawValue, file: file.path)
        #expect(result.exitCode == 0, "\(result.stderr)")
    }

    /// Where the defect is one XSD can express, xmllint rejects it too; where it lies beyond
    /// XSD 1.0 or is Koerier's stricter input policy, xmllint accepts and only Koerier
    /// rejects. The table says which, row by row.
    @Test(arguments: try InvalidSampleTable.load())
    func xmllintAgreesWithTheTable(_ expected: InvalidSampleExpectation) throws {
        let result = try xmllint(schema: expected.xmllintSchema, file: Repository.invalidSamples.appendingPathComponent(expected.file).path)
        #expect((result.exitCode != 0) == expected.xmllintRejects, "\(result.stderr.prefix(300))")
        if !expected.xmllintRejects {
            // Every file xmllint accepts is one Koerier rejects for a rule beyond the schema.
            #expect(!["schema", "well-formed", "root-element", "namespace", "empty"].contains(expected.rule))
        }
    }

    @Test(arguments: Fixtures.allKinds)
    func whatKoerierWritesIsValidForXmllint(_ message: Message) throws {
        let codec = try MessageCodec(schemaDirectory: Repository.schemas)
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("written.xml")
        try codec.encode(message).write(to: file)
        let result = try xmllint(schema: message.kind.rawValue, file: file.path)
        #expect(result.exitCode == 0, "\(result.stderr)")
    }
}
