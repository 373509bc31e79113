import Foundation
import KoerierConfig
import KoerierModel
import KoerierSecurity
import KoerierWorkflow
import KoerierXML
import Logging

/// The drop folder for exports of the centre's own record system. A writer puts a file
/// down under another name and renames it to `*.xml` when complete; only `*.xml` is read.
/// The folder must belong to the daemon's user with no access for others. Each file is
/// opened without following a symbolic link, size-checked before it is read, validated,
/// its signature verified (required unless the configuration trusts the folder), handed to
/// the intake, and removed once the intake has stored it durably: no plaintext letter stays
/// behind. A bad file moves to `rejected/` with a `.error` file beside it that says why.
public struct DropDirectoryIntake: Sendable {
    let folder: URL
    let codec: MessageCodec
    let verifier: SignatureVerifier
    let intake: IntakeProcessor
    let logger: Logger
    /// Unsigned files accepted (the configuration's `serve.drop_folder_trusted`).
    let trustsUnsigned: Bool
    let maxBytes: Int

    public init(
        folder: URL, codec: MessageCodec, verifier: SignatureVerifier, intake: IntakeProcessor, logger: Logger,
        trustsUnsigned: Bool = false,
        maxBytes: Int
    ) {
        self.folder = folder
        self.codec = codec
        self.verifier = verifier
        self.intake = intake
        self.logger = logger
        self.trustsUnsigned = trustsUnsigned
        self.maxBytes = maxBytes
    }

    /// Refuses a folder that is not the daemon's own or that others may enter or read.
    public static func requireOwnFolder(_ folder: URL) throws {
        var status = stat()
        guard lstat(folder.path, &status) == 0 else { throw DropFolderError("\(folder.path): cannot read the drop folder") }
        guard status.st_mode & S_IFMT == S_IFDIR else { throw DropFolderError("\(folder.path): the drop folder is not a directory") }
        if let finding = FileAccess.check(folder, what: "the drop folder", forbidden: 0o007, fix: "chmod o-rwx").first {
            throw DropFolderError("\(finding)")
        }
    }

    /// Takes in every complete file present now; returns how many were accepted and rejected.
    @discardableResult
    public func sweep() throws -> (accepted: Int, rejected: Int) {
        let manager = FileManager.default
        for sub in ["rejected"] {
            try manager.createDirectory(
                at: folder.appendingPathComponent(sub), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let names = try manager.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".xml") && !$0.hasPrefix(".") }.sorted()
        var counts = (accepted: 0, rejected: 0)
        for name in names {
            let file = folder.appendingPathComponent(name)
            switch take(file) {
            case .later(let reason):
                // The store could not take it now (a full disk, a failing audit write): the
                // file stays where it is and is tried again at the next sweep.
                logger.error("drop folder: a file could not be stored now; it stays for the next sweep", metadata: ["reason": "\(reason)"])
            case .refused(let problem):
                try move(file, to: "rejected", name: name)
                try Data((problem + "\n").utf8).write(to: folder.appendingPathComponent("rejected/\(name).error"), options: .atomic)
                // File names of record-system exports may name the client: the log says where to look, not what.
                logger.warning("drop folder: rejected a file; the reason is in rejected/*.error")
                counts.rejected += 1
            case .stored:
                // Stored durably (and encrypted) by the intake: the plaintext goes.
                try FileManager.default.removeItem(at: file)
                counts.accepted += 1
            }
        }
        return counts
    }

    private enum Outcome {
        case stored
        /// Why not (file:line: rule: message lines).
        case refused(String)
        /// Not the file's fault (the store could not take it now): try again.
        case later(String)
    }

    private func take(_ file: URL) -> Outcome {
        let name = file.lastPathComponent
        let data: Data
        switch DropFile.read(file, maxBytes: maxBytes) {
        case .success(let bytes): data = bytes
        case .failure(let refusal): return .refused("\(name): \(refusal)")
        }
        let decoded: (message: Message, document: XMLDocument)
        do {
            decoded = try codec.decodeKeepingDocument(data)
        } catch {
            return .refused(error.problems.map { "\(name):\($0)" }.joined(separator: "\n"))
        }
        var sender = "drop-folder"
        let signed = SignatureVerifier.isSigned(decoded.document)
        if !signed, !trustsUnsigned {
            return .refused("\(name): not signed: this drop folder takes signed messages only (serve.drop_folder_trusted is off)")
        }
        if signed {
            do {
                let signer = try verifier.verify(decoded.document)
                try verifier.requireSender(decoded.message.envelope.sender, matches: signer)
                sender = signer.organisation ?? signer.subject
            } catch let error where error.isOurs {
                // A stale CRL is ops' to renew; the file waits in the folder until then.
                return .later("the signature cannot be checked now: \(error)")
            } catch {
                return .refused("\(name): signature not accepted: \(error)")
            }
        }
        do {
            try intake.accept(decoded.message, bytes: data, sender: sender)
            return .stored
        } catch let refusal as IntakeRefusal {
            return .refused("\(name): \(refusal.reason)")
        } catch {
            return .later("\(error)")
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

public struct DropFolderError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Reading one dropped file without trusting it: not through a symbolic link, a regular
/// file only, its size checked on the open descriptor before a byte is read.
enum DropFile {
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    static func read(_ file: URL, maxBytes: Int) -> Result<Data, Refusal> {
        let descriptor = open(file.path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            return .failure(
                Refusal(
                    description: errno == ELOOP
                        ? "a symbolic link: refused (files are read without following links)" : "cannot open the file"))
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            return .failure(Refusal(description: "not a regular file: refused"))
        }
        guard Int(status.st_size) <= maxBytes else {
            return .failure(Refusal(description: "\(status.st_size) bytes: larger than the limit of \(maxBytes) bytes; not read"))
        }
        guard let data = try? handle.read(upToCount: maxBytes + 1), data.count <= maxBytes else {
            return .failure(Refusal(description: "cannot read the file, or it grew past the limit while read"))
        }
        return .success(data)
    }
}
