import ArgumentParser
import Foundation
import JWTKit
import KoerierConfig
import KoerierDelivery
import KoerierModel
import KoerierServer
import KoerierWorkflow
import Logging

struct BenchFHIRIntakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fhir-intake",
        abstract: "Accepted ZorgDomein-style FHIR Bundles/s with 16 keep-alive clients, beside XML intake in the same run.",
        discussion: """
            The FHIR intake is the one `koerier serve` runs for `POST /fhir/Bundle`: media type, \
            bearer JWT (ES256, checked against the issuer's key, audience and expiry), bounded \
            JSON, the document mapped to a referral and put through the XML referral's schema and \
            rule gate, correlated by ZD-number, stored durably with its trajectory and consent \
            and the answer kept for redeliveries, answered 201 with a Location. Every Bundle has \
            its own id and ZD-number, so each opens a trajectory, as each XML referral does. The \
            baseline, in the same run and on the same listener set-up, is the XML intake (signed \
            referrals verified and answered with signed receipts), each on a store of its own; \
            ratio = FHIR Bundles/s ÷ XML referrals/s.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Bundles (and referrals) per measurement.")
    var messages = 600

    @Option(help: "Concurrent keep-alive clients.")
    var clients = 16

    struct Claims: JWTPayload {
        let iss: IssuerClaim
        let aud: AudienceClaim
        let exp: ExpirationClaim
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    func run() async throws {
        let (configuration, codec) = try global.loadCodec()
        let pki = configuration.samplesDirectory.appendingPathComponent("pki")
        let scratch = try BenchLoopback.scratchFolder(next: configuration.storePath)
        defer { BenchLoopback.removeScratch(scratch) }
        let tls = try BenchLoopback.centreTLS(pki: pki, scratch: scratch)
        let credentials = try BenchLoopback.gpCredentials(pki: pki, scratch: scratch)
        let transport = HTTPSTransport(credentials: credentials, timeouts: TransportTimeouts(connect: 10, total: 60))
        let anchors = pki.appendingPathComponent("ca.pem")

        // XML intake, the baseline.
        let xmlStore = try BenchLoopback.scratchStore(in: scratch, named: "xml")
        let xml = BenchLoopback.xmlIntake(
            try BenchLoopback.IntakeParts(store: xmlStore, codec: codec, pki: pki, as: "centre"), store: xmlStore, codec: codec)
        print("signing \(messages) distinct referrals …")
        let (_, referrals) = try BenchLoopback.signedReferrals(messages, configuration: configuration, codec: codec)
        let xmlPort = try await BenchLoopback.startIntakeListener(tls: tls, responder: xml, store: xmlStore)
        let xmlTarget = HTTPSTarget(url: URL(string: "https://localhost:\(xmlPort)/v1/messages")!, serverAnchors: anchors)

        // FHIR intake: the TEST ONLY issuer key signs one token the clients all send.
        let audience = "https://koerier.bench.test/fhir"
        let settings = KoerierConfiguration.FHIRIntakeSettings(
            baseURL: audience,
            issuers: [
                KoerierConfiguration.JWTIssuer(
                    issuer: "zorgdomein-test", audience: audience, key: pki.appendingPathComponent("zorgdomein-jwt.pub.pem"),
                    algorithms: ["ES256"], clientCertificate: pki.appendingPathComponent("gp.pem"))
            ], leewaySeconds: 30)
        let signer = JWTKeyCollection()
        await signer.add(ecdsa: try ES256PrivateKey(pem: try Data(contentsOf: pki.appendingPathComponent("zorgdomein-jwt.key"))))
        let token = try await signer.sign(
            Claims(
                iss: "zorgdomein-test", aud: AudienceClaim(value: [audience]), exp: ExpirationClaim(value: Date().addingTimeInterval(3600)))
        )
        let fhirStore = try BenchLoopback.scratchStore(in: scratch, named: "fhir")
        let signing = try BenchLoopback.signing(as: "centre", pki: pki, codec: codec)
        let centre = Party(type: .centrum, organisation: "Stress en Burn-out Centrum Haaglanden")
        let responder = FHIRResponder(
            bearer: try await BearerCheck.load(settings),
            intake: FHIRReferralIntake(
                store: fhirStore, directory: RecipientDirectory(recipients: []), codec: codec,
                centre: try signing.ownParty(policy: .testMode, as: centre), baseURL: audience, accessPoint: "bench"),
            executor: fhirStore.executor, logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
        let fhirPort = try await BenchLoopback.startListener(
            tls: tls, fhirHandler: { await responder.answer($0) }, handler: { _ in ListenerAnswer(status: 404, body: Data()) })
        let fhirTarget = HTTPSTarget(url: URL(string: "https://localhost:\(fhirPort)/fhir/Bundle")!, serverAnchors: anchors)
        let bundles = try Self.distinctBundles(
            messages, from: configuration.samplesDirectory.appendingPathComponent("fhir/referral-letter.json"))
        let headers = [
            "Content-Type: application/fhir+json; charset=UTF-8", "Accept: application/fhir+json", "Authorization: Bearer \(token)",
        ]

        let xmlRate = try await BenchLoopback.rate(referrals, clients: clients) { bytes in
            if case .answered(200..<300, let body, _, _) = transport.post(bytes, to: xmlTarget) {
                return body.range(of: Data("<Accepted".utf8)) != nil
            }
            return false
        }
        print(String(format: "XML intake,  %d clients, keep-alive: %7.1f referrals/s", clients, xmlRate))
        let fhirRate = try await BenchLoopback.rate(bundles, clients: clients) { bytes in
            if case .answered(201, _, _, let location?) = transport.post(bytes, to: fhirTarget, headers: headers) {
                return !location.isEmpty
            }
            return false
        }
        print(String(format: "FHIR intake, %d clients, keep-alive: %7.1f Bundles/s", clients, fhirRate))
        let trajectories = try fhirStore.trajectories(limit: 100_000).count
        guard trajectories == bundles.count else {
            throw CommandFailure("\(trajectories) trajectories stored for \(bundles.count) Bundles")
        }

        let result = BenchResult(
            bench: "fhir-intake", value: fhirRate,
            baseline:
                "XML intake of signed referrals (verified, stored, answered with a signed receipt), same run, \(clients) keep-alive clients",
            baselineValue: xmlRate, extra: ["clients": clients, "messages": bundles.count])
        print(try result.jsonLine())
    }

    /// The referral-letter sample with its own Bundle id and ZD-number each time.
    static func distinctBundles(_ count: Int, from sample: URL) throws -> [Data] {
        let text = try String(contentsOf: sample, encoding: .utf8)
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], let id = object["id"] as? String,
            text.contains("ZD123456789")
        else { throw CommandFailure("\(sample.path): not the referral-letter sample (Bundle id, ZD123456789)") }
        return (0..<count).map { index in
            let zd = String(format: "ZD%09d", 200_000_000 + index)
            return Data(
                text.replacingOccurrences(of: "\"\(id)\"", with: "\"\(UUID().uuidString.lowercased())\"")
                    .replacingOccurrences(of: "ZD123456789", with: zd).utf8)
        }
    }
}
