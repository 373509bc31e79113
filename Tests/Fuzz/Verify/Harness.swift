import Foundation
import KoerierSecurity
import KoerierXML

// libFuzzer target: XML Signature verification (structure checks, KeyInfo certificates,
// chain against the test anchors, xmlsec) on any document the parser accepts.
let parser = HardenedParser()
let verifier: SignatureVerifier = {
    do { return SignatureVerifier(trust: try TrustStore(anchorsFile: FuzzRoot.pki.appendingPathComponent("ca.pem"))) } catch {
        fatalError("anchors: \(error)")
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let document = try? parser.parse(Data(bytes: bytes, count: size)) else { return 0 }
    _ = try? verifier.verify(document)
    return 0
}

/// Where the harness finds the repository's schemas and test PKI: `.ci/fuzz` sets
/// KOERIER_ROOT (the harness binaries live in a scratch folder).
enum FuzzRoot {
    static let url = URL(fileURLWithPath: ProcessInfo.processInfo.environment["KOERIER_ROOT"] ?? FileManager.default.currentDirectoryPath)
    static var schemas: URL { url.appendingPathComponent("Schemas") }
    static var pki: URL { url.appendingPathComponent("Samples/pki") }
}
