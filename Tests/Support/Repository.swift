import Foundation

/// Paths inside this repository, found from this file's own location so tests work from
/// any working directory.
public enum Repository {
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static let schemas = root.appendingPathComponent("Schemas")
    public static let samples = root.appendingPathComponent("Samples")
    public static let invalidSamples = samples.appendingPathComponent("invalid")
    public static let config = root.appendingPathComponent("Config/koerier.yaml")
    /// The committed TEST ONLY hierarchy the signed samples were made with.
    public static let pki = samples.appendingPathComponent("pki")
    public static let signedSamples = samples.appendingPathComponent("signed")
    public static let invalidSignedSamples = invalidSamples.appendingPathComponent("signed")

    /// Every valid signed sample (`Samples/signed/*.xml`), sorted.
    public static var signedSampleFiles: [URL] { xmlFiles(in: signedSamples) }

    /// Every valid sample (`Samples/*.xml`), sorted.
    public static var validSampleFiles: [URL] { xmlFiles(in: samples) }

    /// Every hostile sample (`Samples/invalid/*.xml`), sorted.
    public static var invalidSampleFiles: [URL] { xmlFiles(in: invalidSamples) }

    private static func xmlFiles(in folder: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".xml") }.sorted().map { folder.appendingPathComponent($0) }
    }

    public static func data(_ url: URL) throws -> Data { try Data(contentsOf: url) }

    /// A fresh temporary folder, removed by the caller.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("koerier-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
