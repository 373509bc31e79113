import Foundation
import GRDB
import KoerierSecurity
import KoerierStore
import KoerierTestSupport
import KoerierWorkflow
import Testing

/// The audit log against someone who can rewrite the database: a recomputed plain SHA-256
/// chain fails `audit verify` (the chain is an HMAC under a key outside the database), and a
/// chain recomputed with a stolen key fails against a signed checkpoint kept elsewhere.
@Suite(.serialized, .ownThreads) struct AuditCheckpointTests {
    static func rewrite(_ rig: DeliveryRig, entry: Int, outcome: String, scheme: String) throws {
        // The daemon's store is closed: a second writer would see a stale head otherwise.
        let result = try ProcessRunner.run(
            ProcessRunner.python,
            [
                Repository.root.appendingPathComponent("Tests/Peers/audit_rewrite.py").path,
                rig.folder.appendingPathComponent("koerier.sqlite").path, "\(entry)", outcome, scheme,
            ])
        #expect(result.exitCode == 0, "\(result.stderr)")
    }

    /// A checkpoint file kept outside the store's folder, holding a checkpoint of the head now.
    static func checkpointed(_ rig: DeliveryRig, _ config: String) throws -> URL {
        let file = rig.folder.appendingPathComponent("elsewhere/checkpoints.log")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try writeCheckpoint(file, config)
        return file
    }

    static func writeCheckpoint(_ file: URL, _ config: String) throws {
        let written = try ProcessRunner.koerier(["audit", "checkpoint", "--file", file.path, "--config", config])
        #expect(written.exitCode == 0, "\(written.stderr)")
    }

    static func rigWithHistory() throws -> (DeliveryRig, String) {
        let rig = try DeliveryRig()
        try rig.configure(recipients: HTTPSDeliveryTests.gp(port: try rig.downPort()))
        _ = try rig.enqueueLetters(3, to: "gp-de-linde")
        return (rig, rig.folder.appendingPathComponent("koerier.yaml").path)
    }

    @Test func aChainRecomputedWithoutTheKeyFailsVerify() throws {
        let (rig, config) = try Self.rigWithHistory()
        #expect(try ProcessRunner.koerier(["audit", "verify", "--config", config]).stdout.contains("audit log intact"))
        try Self.rewrite(rig, entry: 2, outcome: "cancelled", scheme: "plain")
        let verify = try ProcessRunner.koerier(["audit", "verify", "--config", config])
        #expect(verify.exitCode == 1 && verify.stdout.contains("entry 1 was changed"), "\(verify.stdout)\(verify.stderr)")
    }

    @Test func aChainRecomputedWithAStolenKeyFailsAgainstACheckpoint() throws {
        let (rig, config) = try Self.rigWithHistory()
        let checkpoints = rig.folder.appendingPathComponent("elsewhere/checkpoints.log")
        try FileManager.default.createDirectory(at: checkpoints.deletingLastPathComponent(), withIntermediateDirectories: true)
        let written = try ProcessRunner.koerier(["audit", "checkpoint", "--file", checkpoints.path, "--config", config])
        #expect(written.exitCode == 0 && written.stdout.hasPrefix("koerier-audit-checkpoint v1 sequence="), "\(written.stderr)")
        let intact = try ProcessRunner.koerier(["audit", "verify", "--checkpoints", checkpoints.path, "--config", config])
        #expect(intact.exitCode == 0 && intact.stdout.contains("matches every checkpoint"), "\(intact.stdout)\(intact.stderr)")

        try Self.rewrite(rig, entry: 2, outcome: "cancelled", scheme: rig.folder.appendingPathComponent("audit.key").path)
        // With the key, the chain itself is consistent again ...
        #expect(try ProcessRunner.koerier(["audit", "verify", "--config", config]).exitCode == 0)
        // ... but not what was signed outside the store.
        let broken = try ProcessRunner.koerier(["audit", "verify", "--checkpoints", checkpoints.path, "--config", config])
        #expect(broken.exitCode == 1 && broken.stdout.contains("no longer has the hash signed at"), "\(broken.stdout)\(broken.stderr)")

        // A checkpoint line someone wrote without the gateway's key is refused too.
        var lines = try String(contentsOf: checkpoints, encoding: .utf8)
        lines = lines.replacingOccurrences(of: "sequence=", with: "sequence=1")
        try lines.write(to: checkpoints, atomically: true, encoding: .utf8)
        let forged = try ProcessRunner.koerier(["audit", "verify", "--checkpoints", checkpoints.path, "--config", config])
        #expect(forged.exitCode == 1 && forged.stdout.contains("the signature is not this gateway's"), "\(forged.stdout)")
    }

    @Test func oldEntriesLeaveThroughASignedCheckpointAndAnUnsignedCutIsFound() throws {
        let (rig, config) = try Self.rigWithHistory()
        let checkpoints = try Self.checkpointed(rig, config)
        let signed = try #require(
            try String(contentsOf: checkpoints, encoding: .utf8).firstMatch(of: /sequence=([0-9]+)/).flatMap { Int($0.1) })
        _ = try rig.enqueueLetters(3, to: "gp-de-linde")

        let tooEarly = try ProcessRunner.koerier([
            "audit", "trim", "--before", "2000-01-01", "--checkpoints", checkpoints.path, "--config", config,
        ])
        #expect(tooEarly.exitCode == 1 && tooEarly.stderr.contains("no checkpoint of this gateway made before"), "\(tooEarly.stderr)")
        let trim = try ProcessRunner.koerier([
            "audit", "trim", "--before", "2100-01-01", "--checkpoints", checkpoints.path, "--config", config,
        ])
        #expect(trim.exitCode == 0, "\(trim.stderr)")
        #expect(trim.stdout.contains("removed \(signed) audit entries; the log starts after entry \(signed)"), "\(trim.stdout)")
        let intact = try ProcessRunner.koerier(["audit", "verify", "--checkpoints", checkpoints.path, "--config", config])
        #expect(intact.exitCode == 0 && intact.stdout.contains("matches every checkpoint"), "\(intact.stdout)\(intact.stderr)")

        // Someone with the database moves the start on by two entries (the guards allow a
        // forward move) and removes them: no trim entry, chained under the key, records that cut.
        let database = try DatabaseQueue(path: rig.folder.appendingPathComponent("koerier.sqlite").path)
        try database.write { db in
            let cut = Int64(signed + 2)
            let hash = try String.fetchOne(db, sql: "SELECT hash FROM audit WHERE sequence = ?", arguments: [cut])
            try db.execute(sql: "UPDATE audit_anchor SET sequence = ?, hash = ? WHERE id = 1", arguments: [cut, hash])
            try db.execute(sql: "DELETE FROM audit WHERE sequence <= ?", arguments: [cut])
        }
        try database.close()
        let cut = try ProcessRunner.koerier(["audit", "verify", "--config", config])
        #expect(
            cut.exitCode == 1 && cut.stdout.contains("the log starts after entry \(signed + 2), but no trim entry records that cut"),
            "\(cut.stdout)")
    }

    /// A cut made through the store (with the chain's key, so its trim entry is there) at an
    /// entry no checkpoint signed: only the checkpoints can tell.
    @Test func aCutNoCheckpointSignedIsFoundByTheCheckpoints() throws {
        let (rig, config) = try Self.rigWithHistory()
        let checkpoints = try Self.checkpointed(rig, config)
        _ = try rig.enqueueLetters(3, to: "gp-de-linde")
        let head = try rig.store.auditHead().sequence
        let cut = head - 1
        let context = AuditContext(actor: "someone", accessPoint: "test")
        _ = try rig.store.trimAudit(through: cut, hash: try #require(try rig.store.auditHash(at: cut)), now: Date(), context: context)
        #expect(try ProcessRunner.koerier(["audit", "verify", "--config", config]).exitCode == 0)
        let unsigned = try ProcessRunner.koerier(["audit", "verify", "--checkpoints", checkpoints.path, "--config", config])
        #expect(
            unsigned.exitCode == 1 && unsigned.stdout.contains("the log starts after entry \(cut), which no signed checkpoint names"),
            "\(unsigned.stdout)")
    }

    /// `verify --checkpoints` while `trim` runs: the trim removes a checkpointed entry
    /// between the check's read of the anchor and its read of that entry. The entry is gone
    /// because retention removed it, not because the log was rewritten.
    @Test func aTrimDuringTheCheckIsNotTakenForARewrite() throws {
        let (rig, config) = try Self.rigWithHistory()
        let checkpoints = try Self.checkpointed(rig, config)
        _ = try rig.enqueueLetters(3, to: "gp-de-linde")
        try Self.writeCheckpoint(checkpoints, config)
        let lines = try String(contentsOf: checkpoints, encoding: .utf8).components(separatedBy: "\n")
        let newest = try #require(lines.last { !$0.isEmpty }?.firstMatch(of: /sequence=([0-9]+) hash=([0-9a-f]{64})/))
        let certificate = try #require(DetachedSignature.certificate(file: rig.pki.appendingPathComponent("centre.pem")))

        let racing = TrimAfterAnchorRead(rig.store, through: try #require(Int64(newest.1)), hash: String(newest.2))
        let problems = try AuditCheckpoint.problems(in: lines, store: racing, certificate: certificate)
        #expect(racing.removed > 0, "the trim did not run between the reads")
        #expect(problems.isEmpty, "\(problems)")
        #expect(try rig.store.auditAnchor().sequence == Int64(newest.1) ?? 0)
    }
}

/// The real store, with a real `trimAudit` run right after the first read of the anchor:
/// the interleaving of a trim that runs while checkpoints are checked, made certain.
private final class TrimAfterAnchorRead: AuditStore, @unchecked Sendable {
    private let store: any MessageStore
    private let sequence: Int64
    private let hash: String
    private(set) var removed = 0

    init(_ store: any MessageStore, through sequence: Int64, hash: String) {
        self.store = store
        self.sequence = sequence
        self.hash = hash
    }

    func auditAnchor() throws -> AuditAnchor {
        let anchor = try store.auditAnchor()
        if removed == 0 {
            removed = try store.trimAudit(
                through: sequence, hash: hash, now: Date(), context: AuditContext(actor: "ops:retention", accessPoint: "test"))
        }
        return anchor
    }

    func recordAudit(_ event: AuditEvent, now: Date) throws { try store.recordAudit(event, now: now) }
    func auditEntries(limit: Int) throws -> [AuditEntry] { try store.auditEntries(limit: limit) }
    func verifyAudit() throws -> String? { try store.verifyAudit() }
    func auditHead() throws -> (sequence: Int64, hash: String) { try store.auditHead() }
    func auditHash(at sequence: Int64) throws -> String? { try store.auditHash(at: sequence) }
    func trimAudit(through sequence: Int64, hash: String, now: Date, context: AuditContext) throws -> Int {
        try store.trimAudit(through: sequence, hash: hash, now: now, context: context)
    }
}
