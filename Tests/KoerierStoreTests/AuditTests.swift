import Foundation
import GRDB
import KoerierModel
import KoerierStore
import KoerierTestSupport
import Testing

@Suite struct AuditTests {
    private let t0 = Date(timeIntervalSince1970: 1_780_000_000)
    private let ops = AuditContext(actor: "ops-user", onBehalfOf: "centre", accessPoint: "cli@gateway-1")

    /// A store with a few audited events; the database path for tampering.
    private func storeWithHistory() throws -> (any MessageStore, String, URL) {
        let folder = try Repository.temporaryDirectory()
        let keyFile = folder.appendingPathComponent("payload.keys")
        try PayloadKeyRing.createKeyFile(at: keyFile)
        let keys = try PayloadKeyRing.load(file: keyFile)
        let path = folder.appendingPathComponent("koerier.sqlite").path
        let store = try MessageStores.embedded(path: path, keys: keys)
        let reference = ClientReferencer(keys: keys).reference(bsn: "999990019")
        let message = OutboundMessage(
            messageID: Fixtures.id("2e3f4a5b-6c7d-4e8f-8091-a2b3c4d5e6f7"), kind: .returnLetter, recipientID: "gp",
            recipientType: .huisarts, transactionID: try TransactionID("ZD20260302007"), urgency: .routine,
            payload: Data("<ReturnLetter/>".utf8), clientReference: reference)
        let id = try store.enqueue(message, now: t0, context: ops).record.id
        let lease = try store.leaseDue(owner: "worker", now: t0, duration: 30, limit: 10, context: ops).first?.leaseToken
        _ = try store.transition(id, Transition(to: .delivered), lease: lease, now: t0.addingTimeInterval(1), context: ops)
        _ = try store.payload(of: id, now: t0.addingTimeInterval(2), context: ops)
        return (store, path, folder)
    }

    /// Tampering as someone with the database file would: remove the guards, then change rows.
    private func tamper(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete")
            try db.execute(sql: sql)
        }
    }

    @Test func everyChangeAndReadIsLoggedWithoutPatientData() throws {
        let (store, _, folder) = try storeWithHistory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let entries = try store.auditEntries(limit: 10).reversed()
        #expect(entries.map(\.event.kind) == [.enqueue, .send, .deliver, .read])
        #expect(
            entries.allSatisfy {
                $0.event.actor == "ops-user" && $0.event.accessPoint == "cli@gateway-1" && $0.event.onBehalfOf == "centre"
            })
        #expect(entries.allSatisfy { $0.event.messageID == "2e3f4a5b-6c7d-4e8f-8091-a2b3c4d5e6f7" })
        let reference = try #require(entries.first?.event.clientReference)
        #expect(reference.count == 32 && !reference.contains("999990019"))
        #expect(entries.allSatisfy { $0.event.clientReference == reference })
        #expect(try store.verifyAudit() == nil)
    }

    /// The audit entry is part of the change's transaction: when it cannot be written, the
    /// change is not made either (no unaudited state change).
    @Test func aChangeWhoseAuditEntryCannotBeWrittenIsNotMade() throws {
        let (store, path, folder) = try storeWithHistory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let before = try store.records(state: nil, recipientType: nil, since: nil, limit: 100).count
        let queue = try DatabaseQueue(path: path)
        try queue.write {
            try $0.execute(sql: "CREATE TRIGGER audit_full BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit unavailable'); END")
        }
        let message = OutboundMessage(
            messageID: Fixtures.id("3e3f4a5b-6c7d-4e8f-8091-a2b3c4d5e6f7"), kind: .returnLetter, recipientID: "gp",
            recipientType: .huisarts, transactionID: try TransactionID("ZD20260302008"), urgency: .routine,
            payload: Data("<ReturnLetter/>".utf8), clientReference: nil)
        #expect(throws: (any Error).self) { try store.enqueue(message, now: t0, context: ops) }
        #expect(try store.records(state: nil, recipientType: nil, since: nil, limit: 100).count == before)
        #expect(throws: (any Error).self) {
            try store.recordAudit(AuditEvent(kind: .receive, actor: "intake", accessPoint: "test", outcome: "refused"), now: t0)
        }
    }

    @Test func theDatabaseRefusesToChangeTheLog() throws {
        let (_, path, folder) = try storeWithHistory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let queue = try DatabaseQueue(path: path)
        #expect(throws: DatabaseError.self) { try queue.write { try $0.execute(sql: "UPDATE audit SET actor = 'x' WHERE sequence = 1") } }
        #expect(throws: DatabaseError.self) { try queue.write { try $0.execute(sql: "DELETE FROM audit WHERE sequence = 2") } }
    }

    @Test(arguments: [
        ("UPDATE audit SET actor = 'someone-else' WHERE sequence = 2", "entry 2 was changed"),
        ("UPDATE audit SET at = at + 3600 WHERE sequence = 1", "entry 1 was changed"),
        ("DELETE FROM audit WHERE sequence = 2", "entry 2 is missing"),
        ("DELETE FROM audit WHERE sequence = 4", "the last entries were removed"),
        (
            """
            UPDATE audit SET sequence = 100 WHERE sequence = 2; UPDATE audit SET sequence = 2 WHERE sequence = 3;
            UPDATE audit SET sequence = 3 WHERE sequence = 100
            """, "entry 2 does not follow entry 1"
        ),
    ])
    func verifyFindsEveryKindOfTampering(_ sql: String, _ finding: String) throws {
        let (store, path, folder) = try storeWithHistory()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try store.verifyAudit() == nil)
        try tamper(path, sql)
        let result = try store.verifyAudit()
        #expect(result?.contains(finding) == true, "\(result ?? "no finding")")
    }
}
