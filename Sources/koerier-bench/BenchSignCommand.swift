import ArgumentParser
import Foundation
import KoerierSecurity
import KoerierXML

struct BenchSignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign and verify rates on one core (RSA-2048, ECDSA-P256) against openssl speed and Python signxml.",
        discussion: """
            Koerier's sign pipeline is: hardened parse of the letter's bytes, enveloped signature \
            (exclusive C14N, SHA-256 digest, RSA or ECDSA) and serialization. Its verify pipeline \
            is: hardened parse, the signature-shape policy, certificate checks, chain to the \
            anchor, digest and signature value. The baselines, measured in the same run: the raw \
            signature rate of the same key type and size from `openssl speed` (the physical \
            bound of the signing step), and Python's signxml signing the same letter with the \
            same key in-process (key loaded once). The JSON line's ratio is Koerier's RSA-2048 \
            sign pipeline against openssl speed's RSA-2048 sign rate; ratio_signxml is against \
            signxml. signxml runs in a virtual environment the bench makes in ~/.cache/koerier \
            (from PyPI, once); --python names another interpreter that has it.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Seconds each measurement takes in one round.")
    var seconds: Double = 0.5

    @Option(help: "Rounds; each measurement's best round counts.")
    var rounds: Int = 4

    @Option(help: ArgumentHelp("Message to sign (default: return-letter-fase-2.xml in the samples folder).", valueName: "FILE"))
    var file: String?

    @Option(
        help: ArgumentHelp(
            "TEST ONLY hierarchy with centre(.key|.pem), centre-ec, chain.pem, ca.pem (default: pki in the samples folder).",
            valueName: "DIR"))
    var pki: String?

    @Option(help: "Python interpreter with signxml for the baseline (default: the bench's own virtual environment).")
    var python: String?

    @Flag(help: "Print every round.")
    var verbose = false

    func run() throws {
        try Output.reportingFailures {
            let (configuration, codec) = try global.loadCodec()
            let path = file ?? configuration.samplesDirectory.appendingPathComponent("return-letter-fase-2.xml").path
            let folder = URL(fileURLWithPath: pki ?? configuration.samplesDirectory.appendingPathComponent("pki").path)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CommandFailure("\(path): cannot read the benchmark message")
            }
            guard codec.problems(in: data).isEmpty else { throw CommandFailure("\(path): the benchmark message is invalid") }

            let rsa: SigningIdentity
            let ecdsa: SigningIdentity
            let verifier: SignatureVerifier
            let uncachedVerifier: SignatureVerifier
            do {
                rsa = try SigningIdentity(
                    keyFile: folder.appendingPathComponent("centre.key"), certificateFile: folder.appendingPathComponent("centre.pem"),
                    chainFile: folder.appendingPathComponent("chain.pem"))
                ecdsa = try SigningIdentity(
                    keyFile: folder.appendingPathComponent("centre-ec.key"),
                    certificateFile: folder.appendingPathComponent("centre-ec.pem"), chainFile: folder.appendingPathComponent("chain.pem"))
                // The daemon's verifier remembers chains that verified; the uncached one builds
                // every chain from scratch, as each verification did before.
                verifier = SignatureVerifier(trust: try TrustStore(anchorsFile: folder.appendingPathComponent("ca.pem")))
                uncachedVerifier = SignatureVerifier(
                    trust: try TrustStore(anchorsFile: folder.appendingPathComponent("ca.pem"), cacheChains: false))
            } catch {
                throw CommandFailure("\(folder.path): cannot load the benchmark keys: \(error)")
            }
            let parser = codec.parser
            func signed(_ identity: SigningIdentity) throws -> Data { try Signer(identity: identity).sign(try parser.parse(data)) }
            let rsaSigned = try signed(rsa)
            let ecdsaSigned = try signed(ecdsa)

            // Started after Koerier's first measurements, so a profiler that cannot follow
            // child processes still sees Koerier's side.
            var signxmlChild: PythonBaseline?
            defer { signxmlChild?.stop() }
            func signxml() throws -> PythonBaseline {
                if let signxmlChild { return signxmlChild }
                let child = try PythonBaseline(
                    python: try python ?? BenchPython.environment(providing: "signxml", package: "signxml"), name: "signxml",
                    script: BenchSignCommand.signxmlScript,
                    arguments: [
                        folder.appendingPathComponent("centre.key").path,
                        folder.appendingPathComponent("centre.pem").path, path,
                    ])
                signxmlChild = child
                return child
            }

            var best: [String: Double] = [:]
            func keep(_ name: String, _ rate: Double) { best[name] = max(best[name] ?? 0, rate) }
            print("message: \(path) (\(data.count) bytes)")
            for round in 1...rounds {
                keep("rsa_sign", try measureRate(seconds: seconds) { _ = try signed(rsa) }.rate)
                keep("ecdsa_sign", try measureRate(seconds: seconds) { _ = try signed(ecdsa) }.rate)
                keep("rsa_verify", try measureRate(seconds: seconds) { _ = try verifier.verify(try parser.parse(rsaSigned)) }.rate)
                keep("ecdsa_verify", try measureRate(seconds: seconds) { _ = try verifier.verify(try parser.parse(ecdsaSigned)) }.rate)
                keep(
                    "rsa_verify_uncached",
                    try measureRate(seconds: seconds) { _ = try uncachedVerifier.verify(try parser.parse(rsaSigned)) }.rate)
                keep(
                    "ecdsa_verify_uncached",
                    try measureRate(seconds: seconds) { _ = try uncachedVerifier.verify(try parser.parse(ecdsaSigned)) }.rate)
                let speed = try OpenSSLSpeed.measure(seconds: max(1, Int(seconds.rounded())))
                keep("openssl_rsa_sign", speed.rsaSign)
                keep("openssl_rsa_verify", speed.rsaVerify)
                keep("openssl_ecdsa_sign", speed.ecdsaSign)
                keep("openssl_ecdsa_verify", speed.ecdsaVerify)
                keep("signxml_rsa_sign", try signxml().measure(seconds: seconds).rate)
                if verbose {
                    print("round \(round): " + best.keys.sorted().map { "\($0) \(Int(best[$0]!))" }.joined(separator: ", "))
                }
            }
            let rate = { (name: String) in best[name] ?? 0 }
            print(
                String(
                    format:
                        "RSA-2048   sign %6.0f msg/s (openssl speed %6.0f sig/s, signxml %5.0f msg/s)   verify %6.0f msg/s (openssl %6.0f)",
                    rate("rsa_sign"), rate("openssl_rsa_sign"), rate("signxml_rsa_sign"), rate("rsa_verify"), rate("openssl_rsa_verify")))
            print(
                String(
                    format:
                        "ECDSA-P256 sign %6.0f msg/s (openssl speed %6.0f sig/s)                       verify %6.0f msg/s (openssl %6.0f)",
                    rate("ecdsa_sign"), rate("openssl_ecdsa_sign"), rate("ecdsa_verify"), rate("openssl_ecdsa_verify")))
            print(
                String(
                    format:
                        "verify with a remembered chain: RSA %6.0f, ECDSA %6.0f msg/s; chain built each time: RSA %6.0f, ECDSA %6.0f msg/s",
                    rate("rsa_verify"), rate("ecdsa_verify"), rate("rsa_verify_uncached"), rate("ecdsa_verify_uncached")))
            var extra: [String: Any] = [
                "cores": 1, "rounds": rounds, "seconds_per_round": seconds, "bytes": data.count,
                "ratio_signxml": ((rate("rsa_sign") / max(rate("signxml_rsa_sign"), 1)) * 1000).rounded() / 1000,
                "koerier_sign_stages": "parse+sign+serialize",
            ]
            for (name, value) in best where name != "rsa_sign" { extra[name + "_value"] = Int(value) }
            let result = BenchResult(
                bench: "sign", value: rate("rsa_sign"), baseline: "openssl speed rsa2048 sign, 1 core",
                baselineValue: rate("openssl_rsa_sign"), extra: extra)
            print(try result.jsonLine())
        }
    }

    /// signxml's side: parse + enveloped RSA-SHA256 signature + serialization, key loaded once.
    static let signxmlScript = #"""
        import sys
        try:
            from lxml import etree
            import signxml
            from signxml import XMLSigner, methods
            from cryptography.hazmat.primitives import serialization
        except ImportError:
            sys.stderr.write("the baseline needs Python's signxml: pip install signxml\n"); sys.exit(3)
        key_path, cert_path, message_path = sys.argv[1:4]
        key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
        cert = open(cert_path, "rb").read().decode()
        data = open(message_path, "rb").read()
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        signer = XMLSigner(method=methods.enveloped, signature_algorithm="rsa-sha256", digest_algorithm="sha256",
                           c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
        VERSION = getattr(signxml, "__version__", "?")
        def once():
            etree.tostring(signer.sign(etree.fromstring(data, parser), key=key, cert=cert))
        """#
}

/// `openssl speed` for RSA-2048 and ECDSA P-256: raw signatures and verifications per second
/// on one core, read from its machine-readable (-mr) output.
enum OpenSSLSpeed {
    struct Rates {
        var rsaSign = 0.0, rsaVerify = 0.0, ecdsaSign = 0.0, ecdsaVerify = 0.0
    }

    static func measure(seconds: Int) throws -> Rates {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "speed", "-seconds", String(seconds), "-mr", "rsa2048", "ecdsap256"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            // openssl speed times itself with SIGALRM. The child inherits the spawning thread's
            // signal mask, and Swift's worker threads block most signals: unblock them for the spawn.
            try withUnblockedSignals { try process.run() }
        } catch {
            throw CommandFailure("cannot run openssl speed: \(error)")
        }
        // Two timed runs of `seconds` each; a run that overstays has lost its timer: kill it
        // (SIGKILL: a child that inherited a blocked mask ignores SIGTERM too).
        let watchdog = DispatchWorkItem { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(4 * seconds + 20), execute: watchdog)
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        watchdog.cancel()
        var rates = Rates()
        // +F2:index:bits:sign/s:verify/s for RSA, +F4:index:bits:sign/s:verify/s for ECDSA.
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":")
            guard fields.count == 5, let sign = Double(fields[3]), let verify = Double(fields[4]) else { continue }
            if fields[0] == "+F2" && fields[2] == "2048" { (rates.rsaSign, rates.rsaVerify) = (sign, verify) }
            if fields[0] == "+F4" && fields[2] == "256" { (rates.ecdsaSign, rates.ecdsaVerify) = (sign, verify) }
        }
        guard rates.rsaSign > 0, rates.ecdsaSign > 0 else {
            throw CommandFailure("openssl speed gave no RSA-2048 / ECDSA P-256 figures (exit \(process.terminationStatus))")
        }
        return rates
    }
}

/// Runs `body` with no signal blocked on this thread, then restores the thread's mask.
func withUnblockedSignals<T>(_ body: () throws -> T) rethrows -> T {
    var none = sigset_t()
    var previous = sigset_t()
    sigemptyset(&none)
    pthread_sigmask(SIG_SETMASK, &none, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
    return try body()
}
