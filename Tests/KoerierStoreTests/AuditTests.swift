import Foundation
import GRDB
import KoerierModel
import KoerierStore
import KoerierTestSupport
import Testing

@Suite(.ownThreads) struct AuditTests {
    private let t0 = Date(timeIntervalSince1970: 1_780_000_000)
    private let ops = AuditContext(actor: "ops-user", onBehalfOf: "centre", accessPoint: "cli@gateway-1")

    /// A store with a few audited events.
    private func storeWithHistory(_ backend: Backend) throws -> ScratchStore {
        let scratch = try ScratchStore(backend)
        let store = scratch.store
        let reference = ClientReferencer(keys: try PayloadKeyRing.load(file: scratch.keyFile)).reference(bsn: "999990019")
        let message = OutboundMessage(
            messageID: Fixtures.id("2e3f4a5b-6c7d-4e8f-8091-a2b3c4d5e6f7"), kind: .returnLetter, recipientID: "gp",
            recipientType: .huisarts, transactionID: try TransactionID("ZD20260302007"), urgency: .routine,
            payload: Data("<ReturnLetter/>".utf8), clientReference: reference)
        let id = try store.enqueue(message, now: t0, context: ops).record.id
        let lease = try store.leaseDue(owner: "worker", now: t0, duration: 30, limit: 10, context: ops).first?.leaseToken
        _ = try store.transition(id, Transition(to: .delivered), lease: lease, now: t0.addingTimeInterval(1), context: ops)
        _ = try store.payload(of: id, now: t0.addingTimeInterval(2), context: ops)
        return scratch
    }

    /// Tampering as someone with the database would: remove the guards, then change rows.
    private func tamper(_ scratch: ScratchStore, _ sql: String) throws {
        switch scratch.backend {
        case .sqlite: try scratch.sql("DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete; " + sql)
        case .postgres: try scratch.sql("ALTER TABLE audit DISABLE TRIGGER USER; " + sql)
        }
    }

    @Test(arguments: Backend.allCases) func everyChangeAndReadIsLoggedWithoutPatientData(_ backend: Backend) throws {
        let scratch = try storeWithHistory(backend)
        defer { scratch.remove() }
        let store = scratch.store
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
    @Test(arguments: Backend.allCases) func aChangeWhoseAuditEntryCannotBeWrittenIsNotMade(_ backend: Backend) throws {
        let scratch = try storeWithHistory(backend)
        defer { scratch.remove() }
        let store = scratch.store
        let before = try store.records(state: nil, recipientType: nil, since: nil, limit: 100).count
        switch backend {
        case .sqlite:
            try scratch.sql("CREATE TRIGGER audit_full BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit unavailable'); END")
        case .postgres:
            // The entries a change writes in its own transaction (chained right after it).
            try scratch.sql(
                """
                CREATE FUNCTION audit_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit unavailable'; END $$;
                CREATE TRIGGER audit_full BEFORE INSERT ON audit_pending FOR EACH ROW EXECUTE FUNCTION audit_full()
                """)
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

    @Test(arguments: Backend.allCases) func theDatabaseRefusesToChangeTheLog(_ backend: Backend) throws {
        let scratch = try storeWithHistory(backend)
        defer { scratch.remove() }
        #expect(throws: (any Error).self) { try scratch.sql("UPDATE audit SET actor = 'x' WHERE sequence = 1") }
        #expect(throws: (any Error).self) { try scratch.sql("DELETE FROM audit WHERE sequence = 2") }
        #expect(try scratch.store.verifyAudit() == nil)
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
        for backend in Backend.allCases {
            let scratch = try storeWithHistory(backend)
            defer { scratch.remove() }
            let store = scratch.store
            #expect(try store.verifyAudit() == nil)
            try tamper(scratch, sql)
            let result = try store.verifyAudit()
            #expect(result?.contains(finding) == true, "\(backend): \(result ?? "no finding")")
        }
    }

    /// A trim longer than one delete batch (5,000 entries) goes on batch after batch, each
    /// its own transaction, until everything up to the anchor is gone.
    @Test(arguments: Backend.allCases) func aTrimLongerThanOneBatchRemovesEverythingUpToTheAnchor(_ backend: Backend) throws {
        let scratch = try storeWithHistory(backend)
        defer { scratch.remove() }
        let store = scratch.store
        try store.transaction { tx in
            for index in 0..<11_500 {
                try tx.recordAudit(AuditEvent(kind: .read, actor: "ops-user", messageID: "m-\(index)", accessPoint: "cli"), now: t0)
            }
        }
        let cut: Int64 = 11_000
        let hash = try #require(try store.auditHash(at: cut))
        #expect(try store.trimAudit(through: cut, hash: hash, now: t0, context: ops) == Int(cut))
        #expect(try store.auditHash(at: cut - 1) == nil && store.auditHash(at: cut) == hash)
        #expect(try store.verifyAudit() == nil)
    }

    @Test(arguments: Backend.allCases) func oldEntriesLeaveOnlyUpToACheckpointedEntry(_ backend: Backend) throws {
        let scratch = try storeWithHistory(backend)
        defer { scratch.remove() }
        let store = scratch.store
        for index in 0..<26 {
            try store.recordAudit(AuditEvent(kind: .read, actor: "ops-user", messageID: "m-\(index)", accessPoint: "cli"), now: t0)
        }
        #expect(try store.auditHead().sequence == 30)
        let hash10 = try #require(try store.auditHash(at: 10))

        // A hash the log does not hold at that entry: nothing moves.
        #expect(throws: StoreError.self) {
            _ = try store.trimAudit(through: 10, hash: String(repeating: "a", count: 64), now: t0, context: ops)
        }
        #expect(try store.auditAnchor() == .genesis)

        #expect(try store.trimAudit(through: 10, hash: hash10, now: t0, context: ops) == 10)
        #expect(try store.auditAnchor() == AuditAnchor(sequence: 10, hash: hash10))
        #expect(try store.auditHash(at: 10) == hash10)
        #expect(try store.auditHash(at: 9) == nil)
        #expect(try store.auditHash(at: 11) != nil)
        let newest = try #require(try store.auditEntries(limit: 1).first)
        #expect(newest.sequence == 31 && newest.event.kind == .trim && newest.event.outcome == "entries through 10 removed")
        #expect(try store.auditEntries(limit: 100).map(\.sequence).min() == 11)
        #expect(try store.verifyAudit() == nil)
        // The same trim again changes nothing.
        #expect(try store.trimAudit(through: 10, hash: hash10, now: t0, context: ops) == 0)
        #expect(try store.auditHead().sequence == 31)

        // The database keeps every entry after the anchor, and the anchor only moves forward.
        #expect(throws: (any Error).self) { try scratch.sql("DELETE FROM audit WHERE sequence = 11") }
        #expect(throws: (any Error).self) { try scratch.sql("UPDATE audit_anchor SET sequence = 5 WHERE id = 1") }
        #expect(throws: (any Error).self) { try scratch.sql("UPDATE audit_anchor SET hash = '\(String(repeating: "b", count: 64))'") }
        // Without its anchor row the guard would compare with nothing: the row stays.
        #expect(throws: (any Error).self) { try scratch.sql("DELETE FROM audit_anchor") }
        #expect(try store.verifyAudit() == nil)
        // An entry after the anchor removed with the guards off is found as before.
        try tamper(scratch, "DELETE FROM audit WHERE sequence = 12")
        #expect(try store.verifyAudit()?.contains("entry 12 is missing") == true)
    }
}
