import Foundation
import KoerierSecurity
import KoerierStore

/// A signed statement of the audit log's head (sequence, hash, time), written somewhere
/// the store's writers cannot rewrite (a file kept elsewhere, syslog). Whoever later
/// rewrites the database, even with the chain's key, cannot make its entry at that sequence
/// carry the same hash, and cannot sign a new statement without the gateway's key.
public struct AuditCheckpoint: Sendable, Equatable {
    public let sequence: Int64
    public let hash: String
    public let time: String

    static let prefix = "koerier-audit-checkpoint v1"

    var statement: String { "\(Self.prefix) sequence=\(sequence) hash=\(hash) time=\(time)" }

    /// The current head as one signed line: `koerier-audit-checkpoint v1 sequence=N hash=H time=T signature=B64`.
    public static func line(store: any MessageStore, keyFile: URL, now: Date = Date()) throws -> String {
        let head = try store.auditHead()
        let checkpoint = AuditCheckpoint(sequence: head.sequence, hash: head.hash, time: ISO8601DateFormatter().string(from: now))
        let signature = try DetachedSignature.sign(Data(checkpoint.statement.utf8), keyFile: keyFile)
        return checkpoint.statement + " signature=" + signature.base64EncodedString()
    }

    /// The checkpoint lines among `lines` (other lines, as in syslog, are skipped), each
    /// with its line number and the checkpoint, or why it is not one of this gateway's.
    public static func read(_ lines: [String], certificate: Certificate) -> [(line: Int, checkpoint: Result<AuditCheckpoint, Refused>)] {
        lines.enumerated().compactMap { index, line in
            guard let start = line.range(of: prefix) else { return nil }
            let text = String(line[start.lowerBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
            guard
                let match = text.wholeMatch(
                    of: /koerier-audit-checkpoint v1 sequence=([0-9]+) hash=([0-9a-f]{64}) time=(\S+) signature=(\S+)/),
                let sequence = Int64(match.1), let signature = Data(base64Encoded: String(match.4))
            else { return (index + 1, .failure(Refused(reason: "not a checkpoint line"))) }
            let checkpoint = AuditCheckpoint(sequence: sequence, hash: String(match.2), time: String(match.3))
            guard DetachedSignature.verify(Data(checkpoint.statement.utf8), signature: signature, certificate: certificate) else {
                return (index + 1, .failure(Refused(reason: "the signature is not this gateway's")))
            }
            return (index + 1, .success(checkpoint))
        }
    }

    public struct Refused: Error {
        public let reason: String
    }

    /// When the checkpoint was made (its `time`), if readable.
    public var madeAt: Date? { ISO8601DateFormatter().date(from: time) }

    /// Every problem with `lines` (checkpoint lines; other lines, as in syslog, are skipped):
    /// a signature that is not the gateway's, a head the log no longer has, or a log that
    /// starts after an entry (retention) no signed checkpoint names.
    ///
    /// The anchor and the entries are separate reads, and a `trim` may remove entries
    /// meanwhile: an entry that is gone is judged against the anchor read again, so a trim
    /// made while this runs is not taken for a rewrite. (The lines were read before the head,
    /// which only grows, so a checkpoint past the head is a removal.)
    public static func problems(in lines: [String], store: any AuditStore, certificate: Certificate) throws -> [String] {
        var problems: [String] = []
        let head = try store.auditHead()
        var anchor = try store.auditAnchor()
        let found = read(lines, certificate: certificate)
        for (line, result) in found {
            let place = "checkpoint on line \(line)"
            let checkpoint: AuditCheckpoint
            switch result {
            case .failure(let refused):
                problems.append("\(place): \(refused.reason)")
                continue
            case .success(let valid): checkpoint = valid
            }
            let sequence = checkpoint.sequence
            // Entries before the anchor left by retention: nothing to compare any more.
            if sequence < anchor.sequence { continue }
            guard sequence <= head.sequence else {
                problems.append(
                    "\(place): the log had \(sequence) entries at \(checkpoint.time) and has \(head.sequence) now: entries were removed")
                continue
            }
            var hash = try store.auditHash(at: sequence)
            if hash == nil {
                anchor = try store.auditAnchor()
                if sequence < anchor.sequence { continue }
                // At the anchor now: its hash is the anchor's.
                hash = try store.auditHash(at: sequence)
            }
            guard hash == checkpoint.hash else {
                problems.append("\(place): entry \(sequence) no longer has the hash signed at \(checkpoint.time): the log was rewritten")
                continue
            }
        }
        if found.isEmpty { problems.append("no checkpoint found") }
        // Retention moves the anchor only to a checkpointed entry: one nobody signed means
        // entries were removed by someone else.
        let anchored = found.contains { _, result in
            (try? result.get()).map { $0.sequence == anchor.sequence && $0.hash == anchor.hash } ?? false
        }
        if anchor.sequence > 0 && !anchored {
            problems.append("the log starts after entry \(anchor.sequence), which no signed checkpoint names: entries were removed")
        }
        return problems
    }
}
