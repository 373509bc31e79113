import ArgumentParser
import Foundation
import KoerierSecurity
import KoerierXML

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a signed message against trust anchors; print the signer or the precise reason.",
        discussion: """
        Checks, in order: the message itself (as validate does), exactly one signature at \
        its fixed place, a single reference to the whole document, the allowed transforms and \
        algorithms (no SHA-1, no HMAC, RSA >= 2048 or ECDSA P-256), the signer's certificate \
        (validity now, keyUsage digitalSignature, chain to an anchor, CRL when given), the \
        digest and signature value, and that the envelope's sender is the signer. Exits 0 and \
        prints the signer; exits 1 and prints "FILE: reason [code]" otherwise.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Trust anchors (PEM bundle).", valueName: "ANCHORS.pem"))
    var trust: String

    @Option(help: ArgumentHelp("Certificate revocation list (PEM).", valueName: "CRL.pem"))
    var crl: String?

    @Argument(help: ArgumentHelp("Signed message files.", valueName: "FILE"))
    var files: [String]

    func run() throws {
        try Output.reportingFailures {
            let (_, codec) = try global.loadCodec()
            let verifier = try SignatureVerifier(trust: loadTrustStore(trust, crl: crl))
            var allValid = true
            for file in files {
                switch verifyFile(file, codec: codec, verifier: verifier) {
                case .success(let summary): print("\(file): signed by \(summary)")
                case .failure(let failure):
                    allValid = false
                    failure.lines.forEach { print($0) }
                }
            }
            if !allValid { throw ExitCode.failure }
        }
    }
}

func loadTrustStore(_ anchors: String, crl: String?) throws -> TrustStore {
    do {
        return try TrustStore(anchorsFile: URL(fileURLWithPath: anchors), crlFile: crl.map { URL(fileURLWithPath: $0) })
    } catch {
        throw CommandFailure("\(error)", exitCode: .configurationError)
    }
}

struct VerificationFailure: Error {
    let lines: [String]
}

/// Validates a file and verifies its signature; the lines to print on failure.
func verifyFile(_ file: String, codec: MessageCodec, verifier: SignatureVerifier) -> Result<String, VerificationFailure> {
    guard let data = FileManager.default.contents(atPath: file) else {
        return .failure(VerificationFailure(lines: ["\(file): cannot read the file (missing, a directory, or not readable) [read]"]))
    }
    do throws(XMLProblems) {
        let (message, document) = try codec.decodeKeepingDocument(data)
        do {
            let signer = try verifier.verify(document)
            try SignatureVerifier.requireSender(message.envelope.sender, matches: signer)
            return .success("\(signer)")
        } catch {
            return .failure(VerificationFailure(lines: ["\(file): \(error)"]))
        }
    } catch {
        return .failure(VerificationFailure(lines: error.problems.map { "\(file):\($0)" }))
    }
}
