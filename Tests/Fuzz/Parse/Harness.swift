import Foundation
import KoerierXML

// libFuzzer target: the hardened parser, the markup scan, XSD validation and the model's
// rules, on arbitrary bytes (as intake and the drop folder see them).
let codec: MessageCodec = {
    do { return try MessageCodec(schemaDirectory: FuzzRoot.schemas) } catch { fatalError("schemas: \(error)") }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = codec.problems(in: Data(bytes: bytes, count: size))
    return 0
}

/// Where the harness finds the repository's schemas and test PKI: `.ci/fuzz` sets
/// KOERIER_ROOT (the harness binaries live in a scratch folder).
enum FuzzRoot {
    static let url = URL(fileURLWithPath: ProcessInfo.processInfo.environment["KOERIER_ROOT"] ?? FileManager.default.currentDirectoryPath)
    static var schemas: URL { url.appendingPathComponent("Schemas") }
    static var pki: URL { url.appendingPathComponent("Samples/pki") }
}
