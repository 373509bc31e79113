import Foundation
import KoerierModel
import KoerierSecurity
import KoerierWorkflow
import KoerierXML
import Logging

/// The drop folder for exports of the centre's own record system. A writer puts a file
/// down under another name and renames it to `*.xml` when complete; only `*.xml` is read.
/// Each file is validated (and its signature verified, if it has one), handed to the
/// intake, and only then moved to `processed/`. A bad file moves to `rejected/` with a
/// `.error` file beside it that says why; nothing is ever deleted.
public struct DropDirectoryIntake: Sendable {
    let folder: URL
    let codec: MessageCodec
    let verifier: SignatureVerifier
    let intake: IntakeProcessor
    let logger: Logger

    public init(folder: URL, codec: MessageCodec, verifier: SignatureVerifier, intake: IntakeProcessor, logger: Logger) {
        self.folder = folder
        self.codec = codec
        self.verifier = verifier
        self.intake = intake
        self.logger = logger
    }

    /// Takes in every complete file present now; returns how many were accepted and rejected.
    @discardableResult
    public func sweep() throws -> (accepted: Int, rejected: Int) {
        let manager = FileManager.default
        for sub in ["processed", "rejected"] {
            try manager.createDirectory(
                at: folder.appendingPathComponent(sub), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let names = try manager.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".xml") && !$0.hasPrefix(".") }.sorted()
        var counts = (accepted: 0, rejected: 0)
        for name in names {
            let file = folder.appendingPathComponent(name)
            if let problem = take(file) {
                try move(file, to: "rejected", name: name)
                try Data((problem + "\n").utf8).write(to: folder.appendingPathComponent("rejected/\(name).error"), options: .atomic)
                // File names of record-system exports may name the client: the log says where to look, not what.
                logger.warning("drop folder: rejected a file; the reason is in rejected/*.error")
                counts.rejected += 1
            } else {
                try move(file, to: "processed", name: name)
                counts.accepted += 1
            }
        }
        return counts
    }

    /// nil when accepted; otherwise why not (file:line: rule: message lines).
    private func take(_ file: URL) -> String? {
        guard let data = FileManager.default.contents(atPath: file.path) else { return "\(file.lastPathComponent): cannot read the file" }
        let decoded: (message: Message, document: XMLDocument)
        do {
            decoded = try codec.decodeKeepingDocument(data)
        } catch {
            return error.problems.map { "\(file.lastPathComponent):\($0)" }.joined(separator: "\n")
        }
        var sender = "drop-folder"
        if data.range(of: Data("Signature".utf8)) != nil {
            do {
                let signer = try verifier.verify(decoded.document)
                try SignatureVerifier.requireSender(decoded.message.envelope.sender, matches: signer)
                sender = signer.organisation ?? signer.subject
            } catch {
                return "\(file.lastPathComponent): signature not accepted: \(error)"
            }
        }
        do {
            try intake.accept(decoded.message, bytes: data, sender: sender)
            return nil
        } catch let refusal as IntakeRefusal {
            return "\(file.lastPathComponent): \(refusal.reason)"
        } catch {
            return "\(file.lastPathComponent): not stored: \(error)"
        }
    }

    private func move(_ file: URL, to sub: String, name: String) throws {
        var target = folder.appendingPathComponent("\(sub)/\(name)")
        if FileManager.default.fileExists(atPath: target.path) {
            target = folder.appendingPathComponent("\(sub)/\(UUID().uuidString.prefix(8))-\(name)")
        }
        try FileManager.default.moveItem(at: file, to: target)
    }
}
