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

    /// Every problem with `lines` (checkpoint lines; other lines, as in syslog, are skipped):
    /// a signature that is not the gateway's, or a head the log no longer has.
    public static func problems(in lines: [String], store: any MessageStore, certificate: Certificate) throws -> [String] {
        var problems: [String] = []
        let head = try store.auditHead()
        var seen = 0
        for (index, line) in lines.enumerated() {
            guard let start = line.range(of: prefix) else { continue }
            seen += 1
            let text = String(line[start.lowerBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
            let place = "checkpoint on line \(index + 1)"
            guard
                let match = text.wholeMatch(
                    of: /koerier-audit-checkpoint v1 sequence=([0-9]+) hash=([0-9a-f]{64}) time=(\S+) signature=(\S+)/),
                let sequence = Int64(match.1), let signature = Data(base64Encoded: String(match.4))
            else {
                problems.append("\(place): not a checkpoint line")
                continue
            }
            let checkpoint = AuditCheckpoint(sequence: sequence, hash: String(match.2), time: String(match.3))
            guard DetachedSignature.verify(Data(checkpoint.statement.utf8), signature: signature, certificate: certificate) else {
                problems.append("\(place): the signature is not this gateway's")
                continue
            }
            guard sequence <= head.sequence else {
                problems.append(
                    "\(place): the log had \(sequence) entries at \(checkpoint.time) and has \(head.sequence) now: entries were removed")
                continue
            }
            guard try store.auditHash(at: sequence) == checkpoint.hash else {
                problems.append("\(place): entry \(sequence) no longer has the hash signed at \(checkpoint.time): the log was rewritten")
                continue
            }
        }
        if seen == 0 { problems.append("no checkpoint found") }
        return problems
    }
}
