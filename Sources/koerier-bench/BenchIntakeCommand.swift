import ArgumentParser
import Foundation
import KoerierConfig
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierServer
import KoerierStore
import KoerierWorkflow
import KoerierXML

struct BenchIntakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract:
            "Accepted referrals/s over mutual TLS with 16 keep-alive clients, against this machine's crypto bound.",
        discussion: """
            The intake is the one `koerier serve` runs: each referral is size-checked, parsed, \
            validated, its signature and chain verified, the TLS client matched to the signer, \
            stored durably with its trajectory and consent, and answered with a signed receipt \
            that is kept too. The baseline, in the same run, is the same listener (Hummingbird, \
            mutual TLS) answering every POST with a fixed receipt: no parsing, verifying or \
            storing. Clients are plain libcurl loops with the GP's TLS client certificate, keeping \
            their connections (as a Koerier gateway does), and once more opening a new connection \
            per letter. The JSON line's baseline is this machine's crypto bound, measured in the \
            same run: one RSA-2048 receipt signature plus one verification per letter (openssl \
            speed), on all cores; ratio = accepted/s with 16 keep-alive clients ÷ that bound. \
            Also reported: the whole process's processor time per accepted letter, and the \
            intake's steps (decode, verify, duplicate check, receipt, store) timed one after the \
            other on one thread with its CPU clock, for up to 200 more referrals.
            """
    )

    @OptionGroup var global: GlobalOptions

    /// Referrals taken through the intake's steps one by one, for the breakdown (at most as
    /// many as a measurement has).
    private static let stageLetters = 200

    @Option(help: "Referrals per measurement.")
    var messages = 300

    @Option(help: "Concurrent clients for the main measurement.")
    var clients = 16

    func run() async throws {
        let (configuration, codec) = try global.loadCodec()
        let pki = configuration.samplesDirectory.appendingPathComponent("pki")
        let scratch = try BenchLoopback.scratchFolder(next: configuration.storePath)
        defer { BenchLoopback.removeScratch(scratch) }

        let store = try BenchLoopback.scratchStore(in: scratch, named: "intake")
        let parts = try BenchLoopback.IntakeParts(store: store, codec: codec, pki: pki, as: "centre")
        let centre = try BenchLoopback.signing(as: "centre", pki: pki, codec: codec)

        // Distinct referrals, signed by the GP; and one fixed receipt for the baseline.
        let stageLetters = min(Self.stageLetters, messages)
        print("signing \(messages * 3 + stageLetters) distinct referrals …")
        let (template, referrals) = try BenchLoopback.signedReferrals(
            messages * 3 + stageLetters, configuration: configuration, codec: codec)
        let sample = try Data(contentsOf: configuration.samplesDirectory.appendingPathComponent("signed/referral-huisarts-rsa.xml"))
        let fixedReceipt = try centre.receipt(
            answering: template.envelope, bytes: sample, outcome: .accepted, from: template.envelope.receiver)

        let tls = try BenchLoopback.centreTLS(pki: pki, scratch: scratch)
        // As `serve` does: the answer is worked out on the store's executor.
        let realPort = try await BenchLoopback.startIntakeListener(
            tls: tls, responder: BenchLoopback.xmlIntake(parts, store: store, codec: codec), store: store)
        let barePort = try await BenchLoopback.startListener(tls: tls) { _ in ListenerAnswer(status: 200, body: fixedReceipt) }

        let credentials = try BenchLoopback.gpCredentials(pki: pki, scratch: scratch)
        let timeouts = TransportTimeouts(connect: 10, total: 60)
        // Keep-alive clients (as a Koerier gateway sends), and clients that open a new TLS
        // connection for every letter.
        let transport = HTTPSTransport(credentials: credentials, timeouts: timeouts)
        let freshTransport = HTTPSTransport(credentials: credentials, timeouts: timeouts, reuseConnections: false)
        let anchors = pki.appendingPathComponent("ca.pem")
        let real = HTTPSTarget(url: URL(string: "https://localhost:\(realPort)/v1/messages")!, serverAnchors: anchors)
        let bare = HTTPSTarget(url: URL(string: "https://localhost:\(barePort)/v1/messages")!, serverAnchors: anchors)
        let accepted: @Sendable (TransportOutcome) -> Bool = { outcome in
            if case .answered(200..<300, let body, _, _) = outcome { return body.range(of: Data("<Accepted".utf8)) != nil }
            return false
        }
        let single = Array(referrals.prefix(messages / 4))
        let many = Array(referrals[messages..<(messages * 2)])
        let fresh = Array(referrals[(messages * 2)..<(messages * 3)])
        let staged = Array(referrals.suffix(stageLetters))

        let real1 = try await BenchLoopback.rate(single, clients: 1) { accepted(transport.post($0, to: real)) }
        print(String(format: "1 client, keep-alive:         %6.1f accepted/s", real1))
        let bareMany = try await BenchLoopback.rate(many, clients: clients) { accepted(transport.post($0, to: bare)) }
        let cpuBefore = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID)
        let realMany = try await BenchLoopback.rate(many, clients: clients) { accepted(transport.post($0, to: real)) }
        let cpuPerLetter = (cpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - cpuBefore) / Double(many.count) * 1e6
        print(String(format: "%d clients, keep-alive:       %6.1f accepted/s; bare listener %6.1f/s", clients, realMany, bareMany))
        print(String(format: "processor time per accepted letter (whole process, clients included): %.0f µs", cpuPerLetter))
        let realFresh = try await BenchLoopback.rate(fresh, clients: clients) { accepted(freshTransport.post($0, to: real)) }
        print(String(format: "%d clients, new connection each: %6.1f accepted/s", clients, realFresh))
        // The intake's steps one after the other on one thread, where no client or TLS shares the time.
        let stages = try await store.executor.run { try IntakeStages.measure(staged, parts: parts, store: store, codec: codec) }
        print(
            String(
                format: "per letter, one thread (µs): decode %.0f, verify %.0f, duplicate check %.0f, receipt %.0f, store %.0f; sum %.0f",
                stages.decode, stages.verify, stages.duplicateCheck, stages.receipt, stages.store, stages.total))
        let stored = try store.trajectories(limit: 100_000).count
        let sent = single.count + many.count + fresh.count + staged.count
        guard stored == sent else { throw CommandFailure("\(stored) trajectories stored for \(sent) referrals") }
        // This machine's crypto bound, in the same run: per letter one RSA-2048 receipt
        // signature and one RSA-2048 verification, on all cores.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let speed = try OpenSSLSpeed.measure(seconds: 1)
        let bound = Double(cores) / (1 / speed.rsaSign + 1 / speed.rsaVerify)
        print(String(format: "crypto bound (RSA sign + verify per letter, %d cores): %6.1f letters/s", cores, bound))
        // The best ratio this machine allows: the bound's RSA work plus the bare listener's
        // TLS, HTTP and clients, every other step (decode, verify, receipt, store) free.
        let ceiling = 1 / (1 / bound + 1 / bareMany) / bound
        print(String(format: "ratio ceiling (every step but RSA and the bare listener free): %.3f", ceiling))

        let extra: [String: Any] = [
            "clients": clients, "keep_alive": true, "value_1_client": (real1 * 10).rounded() / 10,
            "value_new_connection_each": (realFresh * 10).rounded() / 10, "bare_listener_value": (bareMany * 10).rounded() / 10,
            "messages": many.count, "cpu_us_per_letter": cpuPerLetter.rounded(), "stages_us_one_thread": stages.json,
            "rsa_sign_us": (1e6 / speed.rsaSign).rounded(), "ratio_ceiling": (ceiling * 1000).rounded() / 1000,
        ]
        let result = BenchResult(
            bench: "intake", value: realMany,
            baseline: "crypto bound: one RSA-2048 signature plus one verification per letter (openssl speed), on \(cores) cores",
            baselineValue: bound, extra: extra)
        print(try result.jsonLine())
    }
}
