import Foundation
import KoerierTestSupport
import Testing

@testable import KoerierSecurity

/// The trust store remembers chains that verified, but only for the moments their
/// certificates (and the CRL) vouch for.
@Suite(.ownThreads) struct ChainCacheTests {
    private func certificates(_ file: String) throws -> [Certificate] {
        Certificate.loadPEM(try Data(contentsOf: Repository.pki.appendingPathComponent(file)))
    }

    @Test(arguments: [true, false]) func aRememberedChainHoldsOnlyWhileItsCertificatesAreValid(cached: Bool) throws {
        // No CRL here: the test CRL itself only begins in 2026, which would hide the 2024 case.
        let trust = try TrustStore(anchorsFile: Repository.pki.appendingPathComponent("ca.pem"), cacheChains: cached)
        let leaf = try #require(try certificates("centre.pem").first)
        let intermediates = try certificates("chain.pem")
        #expect(throws: Never.self) { try trust.verifyChain(leaf: leaf, intermediates: intermediates, at: Date()) }
        #expect(throws: Never.self) { try trust.verifyChain(leaf: leaf, intermediates: intermediates, at: Date()) }
        // The centre's certificate is valid from 2025 to the end of 2045.
        for (moment, reason) in [("2046-06-01T00:00:00Z", SignatureError.Reason.expired), ("2024-06-01T00:00:00Z", .notYetValid)] {
            let date = try #require(ISO8601DateFormatter().date(from: moment))
            let error = #expect(throws: SignatureError.self) { try trust.verifyChain(leaf: leaf, intermediates: intermediates, at: date) }
            #expect(error?.reason == reason, "\(moment): \(String(describing: error))")
        }
    }

    @Test func aRevokedCertificateIsNeverRemembered() throws {
        let trust = try TrustStore(
            anchorsFile: Repository.pki.appendingPathComponent("ca.pem"), crlFile: Repository.pki.appendingPathComponent("crl.pem"))
        let leaf = try #require(try certificates("revoked.pem").first)
        for _ in 0..<2 {
            let error = #expect(throws: SignatureError.self) {
                try trust.verifyChain(leaf: leaf, intermediates: try certificates("chain.pem"), at: Date())
            }
            #expect(error?.reason == .revoked)
        }
    }
}
