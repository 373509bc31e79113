import Foundation
import KoerierDelivery
import KoerierTestSupport
import Testing

/// Outbound transfers keep the same TLS policy as intake: against `openssl s_server`
/// offering one TLS 1.2 suite, the handshake fails for a weak suite and completes for a good
/// one (s_server then leaves the POST unanswered, so the transfer ends in a timeout, not a
/// TLS error).
@Suite(.serialized, .ownThreads) struct OutboundTLSTests {
    func post(to port: Int, in folder: URL) throws -> TransportOutcome {
        let rig = try DeliveryRig()
        let transport = HTTPSTransport(
            credentials: ClientCredentials(
                certificateChain: try rig.chainFile("centre"), key: Repository.pki.appendingPathComponent("centre.key")),
            timeouts: TransportTimeouts(connect: 10, total: 4))
        let target = HTTPSTarget(
            url: URL(string: "https://localhost:\(port)/v1/messages")!, serverAnchors: Repository.pki.appendingPathComponent("ca.pem"))
        return transport.post(Data("<ping/>".utf8), to: target)
    }

    @Test(arguments: [
        ("AES128-SHA", false), ("AES256-GCM-SHA384", false), ("ECDHE-RSA-AES128-SHA", false), ("ECDHE-RSA-AES128-GCM-SHA256", true),
    ])
    func aPartnerOfferingOnlyAWeakSuiteGetsNothing(_ suite: String, _ allowed: Bool) async throws {
        let (server, port) = try await ServeTests.opensslServer(
            [
                "-tls1_2", "-cipher", "\(suite)@SECLEVEL=0", "-www", "-cert_chain", Repository.pki.appendingPathComponent("chain.pem").path,
            ], certificate: Repository.pki.appendingPathComponent("gp.pem"),
            key: Repository.pki.appendingPathComponent("gp.key"))
        defer { kill(server.processIdentifier, SIGKILL) }
        let outcome = try await ProcessRunner.offPool { try self.post(to: port, in: Repository.pki) }
        guard case .noAnswer(let reason) = outcome else {
            Issue.record("\(suite): s_server answered a POST")
            return
        }
        if allowed {
            #expect(reason.contains("timed out") && !reason.contains("SSL"), "\(suite) should complete its handshake: \(reason)")
        } else {
            // Refused for the suite, not for the certificate (which the good suite accepts).
            #expect(reason.contains("SSL") && !reason.contains("certificate"), "\(suite) should be refused: \(reason)")
        }
    }
}
