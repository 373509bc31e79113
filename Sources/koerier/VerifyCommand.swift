import ArgumentParser
import Foundation
import KoerierModel
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

    @OptionGroup var trustOptions: TrustOptions

    @Option(help: ArgumentHelp("For receipts: the message the receipt must answer.", valueName: "ORIGINAL"))
    var answers: String?

    @Argument(help: ArgumentHelp("Signed message files.", valueName: "FILE"))
    var files: [String]

    func run() throws {
        try Output.reportingFailures {
            let (configuration, codec) = try global.loadCodec()
            guard let verifier = try trustOptions.verifier(fallback: configuration) else { return }
            let original = try answers.map { try loadOriginal($0, codec: codec) }
            let allValid = verifyAll(files, codec: codec, verifier: verifier, answering: original) { "\($0): signed by \($1)" }
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

/// Verifies each file, printing `success(file, signer)` or the failure lines; true when all pass.
func verifyAll(
    _ files: [String], codec: MessageCodec, verifier: SignatureVerifier, answering original: OriginalMessage? = nil,
    success: (String, String) -> String?
) -> Bool {
    var allValid = true
    for file in files {
        switch verifyFile(file, codec: codec, verifier: verifier, answering: original) {
        case .success(let signer):
            if let line = success(file, signer) { print(line) }
        case .failure(let failure):
            allValid = false
            for line in failure.lines { print(line) }
        }
    }
    return allValid
}

/// The message a receipt must answer: its exact bytes and its id.
struct OriginalMessage {
    let bytes: Data
    let id: MessageID
}

func loadOriginal(_ file: String, codec: MessageCodec) throws -> OriginalMessage {
    guard let bytes = FileManager.default.contents(atPath: file) else { throw CommandFailure("\(file): cannot read the file") }
    do {
        return OriginalMessage(bytes: bytes, id: try codec.decode(bytes).envelope.messageID)
    } catch {
        throw CommandFailure("\(file): the answered message is invalid: \(error)")
    }
}

/// Validates a file and verifies its signature (and, for a receipt, that it answers
/// `original`); the lines to print on failure.
func verifyFile(
    _ file: String, codec: MessageCodec, verifier: SignatureVerifier,
    answering original: OriginalMessage? = nil
) -> Result<String, VerificationFailure> {
    guard let data = FileManager.default.contents(atPath: file) else {
        return .failure(VerificationFailure(lines: ["\(file): cannot read the file (missing, a directory, or not readable) [read]"]))
    }
    do throws(XMLProblems) {
        let (message, document) = try codec.decodeKeepingDocument(data)
        do {
            let signer = try verifier.verify(document)
            try verifier.requireSender(message.envelope.sender, matches: signer)
            if let original {
                guard case .receipt(let receipt) = message else {
                    throw SignatureError(.receiptMismatch, "--answers applies to receipts; this is a \(message.kind.rawValue)")
                }
                try ReceiptMatch.require(receipt, answers: original.bytes, messageID: original.id)
                return .success("\(signer); answers \(original.id) (SHA-256 matches)")
            }
            return .success("\(signer)")
        } catch {
            return .failure(VerificationFailure(lines: ["\(file): \(error)"]))
        }
    } catch {
        return .failure(VerificationFailure(lines: error.problems.map { "\(file):\($0)" }))
    }
}
