import Foundation

/// A MEDVRI interchange written to a folder an EDI client collects from. The file appears
/// whole or not at all (written beside it under a dot-name, flushed, then renamed), readable
/// by the daemon's user and group only; the same letter again replaces its own file.
struct FolderDropChannel: OutboundChannel {
    let recipientID: String
    let folder: URL

    /// The name the EDI client sees; the message id keeps every retry on one file.
    static func fileName(for messageID: String) -> String { "\(messageID).edi" }

    func prepare(_ letter: OutgoingMessage) throws(ChannelProblem) -> Data { letter.bytes }

    func send(_ wire: Data, for letter: OutgoingMessage) -> TransportOutcome {
        let name = Self.fileName(for: letter.messageID.value)
        do {
            try DurableFile.write(wire, to: folder.appendingPathComponent(name), mode: 0o640)
            return .answered(status: 250, body: Data(), retryAfter: nil)
        } catch {
            // A full disk or a missing folder: ops mend it, the letter waits.
            return .noAnswer(reason: "cannot write \(name) into \(folder.path): \(error)")
        }
    }

    func interpret(_ outcome: TransportOutcome, for letter: OutgoingMessage) -> ChannelVerdict {
        switch outcome {
        case .answered:
            return .delivered(note: "written as \(folder.lastPathComponent)/\(Self.fileName(for: letter.messageID.value))")
        case .noAnswer(let reason):
            return .retryLater(reason: reason, after: nil)
        }
    }
}

/// Writes a file so that a reader sees all of it or none: a hidden temporary beside the
/// target, fsync'd, renamed over the target, and the folder fsync'd so the name survives a
/// crash. One writer per target (a record is attempted by its lease holder only).
enum DurableFile {
    struct Failure: Error, CustomStringConvertible {
        let step: String
        let code: Int32
        var description: String { "\(step): \(String(cString: strerror(code)))" }
    }

    static func write(_ data: Data, to target: URL, mode: mode_t) throws {
        let folder = target.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(target.lastPathComponent).tmp")
        // A left-over temporary (a crash mid-write) goes first; a new one never follows a link.
        unlink(temporary.path)
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw Failure(step: "open", code: errno) }
        var closed = false
        defer {
            if !closed { close(descriptor) }
        }
        try data.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(descriptor, base + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    let code = errno
                    unlink(temporary.path)
                    throw Failure(step: "write", code: code)
                }
                offset += written
            }
        }
        // The mode asked for, whatever the umask: the EDI client's group must read it.
        guard fchmod(descriptor, mode) == 0, fsync(descriptor) == 0 else {
            let code = errno
            unlink(temporary.path)
            throw Failure(step: "fsync", code: code)
        }
        close(descriptor)
        closed = true
        guard rename(temporary.path, target.path) == 0 else {
            let code = errno
            unlink(temporary.path)
            throw Failure(step: "rename", code: code)
        }
        // The new name must survive a power cut before the letter counts as delivered.
        let directory = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw Failure(step: "open folder", code: errno) }
        defer { close(directory) }
        guard fsync(directory) == 0 else { throw Failure(step: "fsync folder", code: errno) }
    }
}
