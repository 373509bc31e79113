import Foundation
import KoerierDelivery
import KoerierSecurity
import KoerierServer
import KoerierStore
import KoerierWorkflow
import KoerierXML

// libFuzzer target: the intake request path as `serve` runs it for a POST body from the
// GP's verified TLS client: parse, validate, verify, match the client, store on a scratch
// store, sign and keep the receipt.
struct Intake {
    let responder: ReceiptingResponder
    let client: Data

    init() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("koerier-fuzz-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let keyFile = scratch.appendingPathComponent("payload.keys")
        if !FileManager.default.fileExists(atPath: keyFile.path) { try PayloadKeyRing.createKeyFile(at: keyFile) }
        let store = try MessageStores.embedded(
            path: scratch.appendingPathComponent("intake.sqlite").path, keys: try PayloadKeyRing.load(file: keyFile))
        let codec = try MessageCodec(schemaDirectory: FuzzRoot.schemas)
        let pki = FuzzRoot.pki
        let verifier = SignatureVerifier(trust: try TrustStore(anchorsFile: pki.appendingPathComponent("ca.pem")))
        let centre = MessageSigning(
            codec: codec,
            signer: Signer(
                identity: try SigningIdentity(
                    keyFile: pki.appendingPathComponent("centre.key"), certificateFile: pki.appendingPathComponent("centre.pem"),
                    chainFile: pki.appendingPathComponent("chain.pem"))))
        let directory = RecipientDirectory(recipients: [])
        let intake = IntakeProcessor(
            store: store, directory: directory,
            receipts: ReceiptIntake(store: store, directory: directory, receipts: ReceiptCheck(codec: codec, verifier: verifier)),
            accessPoint: "fuzz")
        responder = ReceiptingResponder(
            codec: codec, verifier: verifier, signing: centre, previousReceipt: { try? store.issuedReceipt(for: $0.value) },
            accept: { message, bytes, signer, receipt in
                try intake.accept(message, bytes: bytes, sender: signer.organisation ?? signer.subject, receipt: receipt)
            })
        guard let pem = FileManager.default.contents(atPath: pki.appendingPathComponent("gp.pem").path),
            let gp = Certificate.loadPEM(pem).first
        else { throw CocoaError(.fileReadCorruptFile) }
        client = gp.der
    }
}

let intake: Intake = {
    do { return try Intake() } catch { fatalError("intake: \(error)") }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = intake.responder.answer(InboundRequest(body: Data(bytes: bytes, count: size), clientCertificateDER: intake.client))
    return 0
}

/// Where the harness finds the repository's schemas and test PKI: `.ci/fuzz` sets
/// KOERIER_ROOT (the harness binaries live in a scratch folder).
enum FuzzRoot {
    static let url = URL(fileURLWithPath: ProcessInfo.processInfo.environment["KOERIER_ROOT"] ?? FileManager.default.currentDirectoryPath)
    static var schemas: URL { url.appendingPathComponent("Schemas") }
    static var pki: URL { url.appendingPathComponent("Samples/pki") }
}
