import Foundation
import KoerierModel
import KoerierSecurity
import KoerierTestSupport
import Testing

/// Many signatures at once from one identity whose key pool starts empty, so key copies are
/// made concurrently: every one must succeed and verify.
@Suite(.ownThreads) struct ConcurrentSigningTests {
    @Test func manySignaturesAtOnceAllSucceedAndVerify() async throws {
        let codec = TestHierarchy.codec
        let verifier = SignatureVerifier(trust: TestHierarchy.trust)
        for party in ["centre", "expired"] {
            let signer = Signer(identity: try TestHierarchy.identity(party))
            let letter = try codec.encode(.returnLetter(Fixtures.returnLetter()))
            let signed = try await withThrowingTaskGroup(of: Data.self) { group in
                for _ in 0..<48 {
                    group.addTask { try signer.sign(try codec.decodeKeepingDocument(letter).document) }
                }
                return try await group.reduce(into: [Data]()) { $0.append($1) }
            }
            #expect(signed.count == 48)
            if party == "centre" {
                for bytes in signed.prefix(8) {
                    #expect(try verifier.verify(try codec.decodeKeepingDocument(bytes).document).careIdentifier == "90000456")
                }
            }
        }
    }
}
