import Foundation
import KoerierSecurity
import KoerierTestSupport
import KoerierXML

/// A fresh TEST ONLY hierarchy made by `TestPKI` for this test run (about 4 seconds, once).
enum TestHierarchy {
    static let directory: URL = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("koerier-pki-\(UUID().uuidString)")
        // The keys are removed when the test process exits, not left in the temporary folder.
        atexit { try? FileManager.default.removeItem(at: TestHierarchy.directory) }
        do {
            try TestPKI.create(in: folder)
        } catch {
            fatalError("cannot create the test PKI: \(error)")
        }
        return folder
    }()

    static func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static func identity(_ party: String) throws -> SigningIdentity {
        try SigningIdentity(keyFile: file("\(party).key"), certificateFile: file("\(party).pem"), chainFile: file("chain.pem"))
    }

    static let trust: TrustStore = {
        do {
            return try TrustStore(anchorsFile: file("ca.pem"), crlFile: file("crl.pem"))
        } catch {
            fatalError("cannot load the test anchors: \(error)")
        }
    }()

    static let codec: MessageCodec = {
        do {
            return try MessageCodec(schemaDirectory: Repository.schemas)
        } catch {
            fatalError("cannot load Schemas/: \(error)")
        }
    }()
}
