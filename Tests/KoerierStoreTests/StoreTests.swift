import Crypto
import Foundation
import GRDB
import KoerierModel
import KoerierStore
import KoerierTestSupport
import Testing

@Suite(.ownThreads) struct StoreTests {
    /// A store in a fresh folder with a fresh key file; removed by the caller.
    private func makeStore(keys: PayloadKeyRing? = nil) throws -> (any MessageStore, URL) {
        let folder = try Repository.temporaryDirectory()
        let keyFile = folder.appendingPathComponent("payload.keys")
        try PayloadKeyRing.createKeyFile(at: keyFile)
        let ring = try keys ?? PayloadKeyRing.load(file: keyFile)
        return (try MessageStores.embedded(path: folder.appendingPathComponent("var/koerier.sqlite").path, keys: ring), folder)
    }

    private let t0 = Date(timeIntervalSince1970: 1_780_000_000)
    private let ops = AuditContext(actor: "test", accessPoint: "unit-test")

    private func message(
        _ id: String = "2e3f4a5b-6c7d-4e8f-8091-a2b3c4d5e6f7", to recipient: String = "gp-de-linde",
        urgency: Urgency = .routine, payload: Data = Data("<ReturnLetter/>".utf8)
    ) -> OutboundMessage {
        OutboundMessage(
            messageID: Fixtures.id(id), kind: .returnLetter, recipientID: recipient, recipientType: .huisarts,
            transactionID: try! TransactionID("ZD20260302007"), urgency: urgency, payload: payload)
    }

    @Test(arguments: Backend.allCases) func enqueueIsIdempotentPerMessageAndRecipient(_ backend: Backend) throws {
        let scratch = try ScratchStore(backend)
        defer { scratch.remove() }
        let store = scratch.store
        guard case .stored(let first) = try store.enqueue(message(), now: t0, context: ops) else {
            Issue.record("not stored")
            return
        }
        #expect(first.state == .queued && first.attempts == 0)
        #expect(try store.enqueue(message(), now: t0.addingTimeInterval(5), context: ops) == .duplicate(first))
        guard case .stored = try store.enqueue(message(to: "arbo-voorbeeld"), now: t0, context: ops) else {
            Issue.record("second recipient")
            return
        }
        #expect(try store.counts().map(\.count).reduce(0, +) == 2 && store.counts().allSatisfy { $0.state == .queued })
    }

    @Test(arguments: Backend.allCases) func recordsMoveOnlyAlongTheStateMachine(_ backend: Backend) throws {
        let scratch = try ScratchStore(backend)
        defer { scratch.remove() }
        let store = scratch.store
        let id = try store.enqueue(message(), now: t0, context: ops).record.id
        #expect(throws: StoreError.self) { try store.transition(id, Transition(to: .delivered), now: t0, context: ops) }
        let leased = try store.leaseDue(owner: "worker-1", now: t0, duration: 30, limit: 10, context: ops)
        #expect(leased.map(\.id) == [id])
        #expect(leased.first?.state == .sending && leased.first?.attempts == 1 && leased.first?.leaseOwner == "worker-1")
        let lease = try #require(leased.first?.leaseToken)
        #expect(throws: StoreError.self) { try store.transition(id, Transition(to: .delivered), now: t0, context: ops) }
        let delivered = try store.transition(id, Transition(to: .delivered), lease: lease, now: t0.addingTimeInterval(1), context: ops)
        #expect(delivered.state == .delivered && delivered.leaseOwner == nil && delivered.leaseToken == nil)
        let acknowledged = try store.transition(
            id, Transition(to: .acknowledged, receiptID: "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b"),
            now: t0.addingTimeInterval(2), context: ops)
        #expect(acknowledged.receiptID == "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b")
        for next in DeliveryState.allCases {
            #expect(throws: StoreError.self) { try store.transition(id, Transition(to: next), now: t0, context: ops) }
        }
    }

    /// A reason quoting a partner's answer is untrusted bytes: a NUL (PostgreSQL's text
    /// refuses it, and the refusal would undo the scheduler's whole pass, again and again) and
    /// line breaks are stored as spaces, and an answer of any size as a status line's worth.
    @Test(arguments: Backend.allCases) func aPartnersAnswerWithControlBytesIsStoredCleaned(_ backend: Backend) throws {
        let scratch = try ScratchStore(backend)
        defer { scratch.remove() }
        let store = scratch.store
        let id = try store.enqueue(message(), now: t0, context: ops).record.id
        let leased = try store.leaseDue(owner: "worker-1", now: t0, duration: 30, limit: 10, context: ops)
        let lease = try #require(leased.first?.leaseToken)
        let answer = "HTTP 503: busy\u{0}\r\nforged line " + String(repeating: "x", count: 2_000)
        let moved = try store.transition(
            id, Transition(to: .retrying, error: answer, nextAttemptAt: t0.addingTimeInterval(60)), lease: lease, now: t0, context: ops)
        let stored = try #require(try store.record(id)?.lastError)
        #expect(moved.state == .retrying && stored.hasPrefix("HTTP 503: busy   forged line xxx") && stored.count == 500, "\(stored)")
        #expect(!stored.unicodeScalars.contains { $0.properties.generalCategory == .control })
        #expect(try store.verifyAudit() == nil)
    }

    /// One receipt per message id: a second copy's receipt is refused with a typed error (its
    /// unit of work stores nothing and the copy is answered as a duplicate), the first kept.
    @Test(arguments: Backend.allCases) func aSecondReceiptForOneMessageIdIsRefusedAndTheFirstKept(_ backend: Backend) throws {
        let scratch = try ScratchStore(backend)
        defer { scratch.remove() }
        let store = scratch.store
        try store.recordIssuedReceipt(Data("<first/>".utf8), for: "m-1", now: t0)
        #expect(throws: ReceiptAlreadyIssued.self) {
            try store.transaction { tx in
                _ = try tx.enqueue(message(), now: t0, context: ops)
                try tx.recordIssuedReceipt(Data("<second/>".utf8), for: "m-1", now: t0)
            }
        }
        #expect(try store.issuedReceipt(for: "m-1") == Data("<first/>".utf8))
        #expect(try store.counts().isEmpty)
        #expect(try store.verifyAudit() == nil)
    }

    /// Units of work that serialize on one key run one after the other: the second, started
    /// while the first has written but not committed, reads what the first wrote (PostgreSQL
    /// at READ COMMITTED would otherwise read past it and decide on stale data).
    @Test(arguments: Backend.allCases) func unitsOfWorkOnOneKeyRunOneAfterTheOther(_ backend: Backend) throws {
        let scratch = try ScratchStore(backend)
        defer { scratch.remove() }
        let store = scratch.store
        let written = DispatchSemaphore(value: 0)
        let first = Thread {
            try? store.transaction { tx in
                try tx.serialize(on: "zd:ZD123")
                try tx.recordIssuedReceipt(Data("<first/>".utf8), for: "written-by-the-first", now: t0)
                written.signal()
                Thread.sleep(forTimeInterval: 0.5)  // holding the key, not committed yet
            }
        }
        first.start()
        written.wait()
        let seen = try store.transaction { tx in
            try tx.serialize(on: "zd:ZD123")
            return try tx.issuedReceipt(for: "written-by-the-first")
        }
        #expect(seen == Data("<first/>".utf8))
        if backend == .postgres {
            // Outside a unit of work the lock would end at once: refused, not silently useless.
            #expect(throws: StoreError.self) { try store.serialize(on: "zd:ZD123") }
        }
    }

    @Test(arguments: Backend.allCases) func onlyTheHolderOfTheCurrentLeaseSettlesARecord(_ backend: Backend) throws {
        let scratch = try ScratchStore(backend)
        defer { scratch.remove() }
        let store = scratch.store
        let id = try store.enqueue(message(), now: t0, context: ops).record.id
        let stale = try #require(store.leaseDue(owner: "stalled", now: t0, duration: 30, limit: 1, context: ops).first?.leaseToken)
        // Renewal keeps it while it is held; after expiry the next lease takes the record back, audited.
        try store.extendLease(id, lease: stale, until: t0.addingTimeInterval(40), now: t0.addingTimeInterval(20))
        #expect(try store.leaseDue(owner: "w2", now: t0.addingTimeInterval(35), duration: 30, limit: 1, context: ops).isEmpty)
        let fresh = try #require(
            store.leaseDue(owner: "w2", now: t0.addingTimeInterval(41), duration: 30, limit: 1, context: ops).first?.leaseToken)
        #expect(fresh != stale)
        #expect(try store.auditEntries(limit: 2).last?.event.outcome == "lease of stalled expired: back in the queue")
        let entries = try store.auditEntries(limit: 100).count
        // The stalled holder wakes up: settling, extending and releasing all fail and record nothing.
        #expect(throws: LeaseLost.self) {
            try store.transition(id, Transition(to: .acknowledged), lease: stale, now: t0.addingTimeInterval(42), context: ops)
        }
        #expect(throws: LeaseLost.self) { try store.extendLease(id, lease: stale, until: t0.addingTimeInterval(90), now: t0) }
        #expect(throws: LeaseLost.self) {
            try store.releaseLease(id, lease: stale, until: t0, reason: "x", now: t0.addingTimeInterval(42), context: ops)
        }
        #expect(try store.auditEntries(limit: 100).count == entries)
        #expect(try store.record(id)?.state == .sending && store.record(id)?.leaseOwner == "w2")
        let done = try store.transition(id, Transition(to: .acknowledged), lease: fresh, now: t0.addingTimeInterval(43), context: ops)
        #expect(done.state == .acknowledged)
        #expect(throws: LeaseLost.self) {
            try store.transition(id, Transition(to: .acknowledged), lease: fresh, now: t0.addingTimeInterval(44), context: ops)
        }
    }

    /// Concurrent grouped units share commits, and one that fails is rolled back alone.
    @Test(arguments: Backend.allCases) func groupedUnitsCommitTogetherAndFailAlone(_ backend: Backend) throws {
        let scratch = try ScratchStore(backend)
        defer { scratch.remove() }
        let store = scratch.store
        let ids = (0..<40).map { _ in MessageID.generate() }
        let failures = LockedIndices()
        DispatchQueue.concurrentPerform(iterations: ids.count) { index in
            do {
                try store.groupedTransaction { tx in
                    var outbound = message(to: "gp-de-linde")
                    outbound.messageID = ids[index]
                    _ = try tx.enqueue(outbound, now: t0, context: ops)
                    if index % 10 == 7 { throw StoreError("unit \(index) refuses") }
                }
            } catch {
                failures.insert(index)
            }
        }
        #expect(failures.all == [7, 17, 27, 37])
        let stored = Set(try store.records(state: nil, recipientType: nil, since: nil, limit: 100).map(\.messageID))
        #expect(stored == Set(ids.enumerated().filter { $0.offset % 10 != 7 }.map(\.element.value)))
        #expect(try store.verifyAudit() == nil)
    }

    @Test func oneDaemonPerStore() throws {
        let (store, folder) = try makeStore()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("var/koerier.sqlite").path
        _ = store
        var first: DaemonLock? = try DaemonLock.claim(storePath: path, role: "serve")
        #expect(first != nil)
        // flock is per open file description: a second claim, even in this process, is refused.
        let refusal = #expect(throws: StoreError.self) { try DaemonLock.claim(storePath: path, role: "deliver") }
        #expect(refusal?.description.contains("serve, pid \(getpid())") == true)
        first = nil
        #expect(throws: Never.self) { try DaemonLock.claim(storePath: path, role: "deliver") }
    }

    @Test(arguments: Backend.allCases) func anExpiredLeaseReturnsTheRecordToTheQueue(_ backend: Backend) throws {
        let scratch = try ScratchStore(backend)
        defer { scratch.remove() }
        let store = scratch.store
        let id = try store.enqueue(message(), now: t0, context: ops).record.id
        #expect(try store.leaseDue(owner: "crashed-worker", now: t0, duration: 30, limit: 10, context: ops).count == 1)
        #expect(try store.leaseDue(owner: "worker-2", now: t0.addingTimeInterval(10), duration: 30, limit: 10, context: ops).isEmpty)
        let again = try store.leaseDue(owner: "worker-2", now: t0.addingTimeInterval(31), duration: 30, limit: 10, context: ops)
        #expect(again.map(\.id) == [id])
        #expect(again.first?.leaseOwner == "worker-2" && again.first?.attempts == 2)
    }

    @Test(arguments: Backend.allCases) func aRestartedWorkerTakesBackItsOwnLeasesAtOnce(_ backend: Backend) throws {
        let scratch = try ScratchStore(backend)
        defer { scratch.remove() }
        let store = scratch.store
        let mine = try store.enqueue(message(), now: t0, context: ops).record.id
        let theirs = try store.enqueue(message(to: "arbo-voorbeeld"), now: t0, context: ops).record.id
        _ = try store.leaseDue(owner: "serve@host:/store", now: t0, duration: 120, limit: 1, context: ops)
        _ = try store.leaseDue(owner: "other", now: t0, duration: 120, limit: 1, context: ops)
        #expect(try store.releaseLeases(owner: "serve@host:/store", now: t0.addingTimeInterval(1), context: ops) == 1)
        #expect(try store.record(mine)?.state == .queued && store.record(mine)?.leaseOwner == nil)
        #expect(try store.record(theirs)?.state == .sending)
        #expect(try store.auditEntries(limit: 1).first?.event.outcome == "lease of a stopped run released")
        #expect(
            try store.leaseDue(owner: "serve@host:/store", now: t0.addingTimeInterval(2), duration: 120, limit: 5, context: ops).map(\.id)
                == [mine])
    }

    @Test(arguments: Backend.allCases) func urgentMessagesAreLeasedFirst(_ backend: Backend) throws {
        let scratch = try ScratchStore(backend)
        defer { scratch.remove() }
        let store = scratch.store
        _ = try store.enqueue(message("0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"), now: t0, context: ops)
        _ = try store.enqueue(message("1d2e3f4a-5b6c-4d7e-9f80-91a2b3c4d5e6", urgency: .soon), now: t0.addingTimeInterval(1), context: ops)
        let urgent = try store.enqueue(
            message("8a0d4c11-2e3f-4b5a-8c6d-9e0f1a2b3c4d", urgency: .urgent), now: t0.addingTimeInterval(2), context: ops)
        let now = t0.addingTimeInterval(3)
        let order = try (0..<3).flatMap { _ in try store.leaseDue(owner: "w", now: now, duration: 30, limit: 1, context: ops) }.map(
            \.urgency)
        #expect(order == [.urgent, .soon, .routine])
        #expect(try store.record(urgent.record.id)?.state == .sending)
    }

    /// The alarm's count is every late urgent letter, not only the ones listed: a backlog of
    /// more than a page must not read as a page.
    @Test(arguments: Backend.allCases) func lateUrgentLettersAreAllCountedAndTheOldestListed(_ backend: Backend) throws {
        let scratch = try ScratchStore(backend)
        defer { scratch.remove() }
        let store = scratch.store
        let urgent = (0..<(PendingSummary.listedLimit + 5)).map { _ in
            message(UUID().uuidString.lowercased(), urgency: .urgent)
        }
        for (index, letter) in urgent.enumerated() {
            _ = try store.enqueue(letter, now: t0.addingTimeInterval(Double(index)), context: ops)
        }
        _ = try store.enqueue(message(UUID().uuidString.lowercased()), now: t0, context: ops)
        _ = try store.enqueue(message(UUID().uuidString.lowercased(), urgency: .urgent), now: t0.addingTimeInterval(3600), context: ops)
        let summary = try store.pendingSummary(urgentBefore: t0.addingTimeInterval(600))
        #expect(summary.lateUrgentCount == urgent.count)
        #expect(summary.lateUrgent.map(\.messageID) == urgent.prefix(PendingSummary.listedLimit).map(\.messageID.value))
        #expect(summary.oldestPending == t0)
        let few = try store.pendingSummary(urgentBefore: t0.addingTimeInterval(3))
        #expect(few.lateUrgentCount == 3 && few.lateUrgent.count == 3)
    }

    @Test(arguments: Backend.allCases) func aRetryWaitsUntilItIsDue(_ backend: Backend) throws {
        let scratch = try ScratchStore(backend)
        defer { scratch.remove() }
        let store = scratch.store
        let id = try store.enqueue(message(), now: t0, context: ops).record.id
        let lease = try store.leaseDue(owner: "w", now: t0, duration: 30, limit: 1, context: ops).first?.leaseToken
        let retrying = try store.transition(
            id, Transition(to: .retrying, error: "HTTP 503", nextAttemptAt: t0.addingTimeInterval(60)), lease: lease,
            now: t0.addingTimeInterval(1), context: ops)
        #expect(retrying.lastError == "HTTP 503")
        #expect(try store.leaseDue(owner: "w", now: t0.addingTimeInterval(30), duration: 30, limit: 1, context: ops).isEmpty)
        #expect(try store.leaseDue(owner: "w", now: t0.addingTimeInterval(61), duration: 30, limit: 1, context: ops).map(\.attempts) == [2])
    }

    @Test func payloadsAreNotPlaintextOnDiskAndDecryptIntact() throws {
        let (store, folder) = try makeStore()
        defer { try? FileManager.default.removeItem(at: folder) }
        let letter = try Repository.data(Repository.samples.appendingPathComponent("return-letter-fase-2.xml"))
        let id = try store.enqueue(message(payload: letter), now: t0, context: ops).record.id
        #expect(try store.payload(of: id, now: t0, context: ops) == letter)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("var").path)
        #expect(files.contains("koerier.sqlite"))
        for name in files {
            let bytes = try Data(contentsOf: folder.appendingPathComponent("var/\(name)"))
            for secret in ["Herstellende", "999990019", "Sanne", "restklachten"] {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) in \(name)")
            }
        }
        // The metadata stays queryable.
        #expect(try store.records(state: .queued, recipientType: "huisarts", since: nil, limit: 10).map(\.id) == [id])
    }

    @Test(arguments: Backend.allCases) func keysRotateAndOldPayloadsStayReadable(_ backend: Backend) throws {
        let old = SymmetricKey(size: .bits256)
        let new = SymmetricKey(size: .bits256)
        let scratch = try ScratchStore(backend, keys: try PayloadKeyRing(keys: [("k1", old)]))
        defer { scratch.remove() }
        let oldID = try scratch.store.enqueue(message(payload: Data("eerste".utf8)), now: t0, context: ops).record.id
        let rotated = try scratch.reopen(keys: try PayloadKeyRing(keys: [("k2", new), ("k1", old)]))
        let newRecord = try rotated.enqueue(
            message("0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5", payload: Data("tweede".utf8)), now: t0, context: ops
        ).record
        #expect(newRecord.keyID == "k2")
        #expect(try rotated.payload(of: oldID, now: t0, context: ops) == Data("eerste".utf8))
        let forgotten = try scratch.reopen(keys: try PayloadKeyRing(keys: [("k2", new)]))
        #expect(throws: PayloadKeyRing.Failure.self) { try forgotten.payload(of: oldID, now: t0, context: ops) }
    }

    /// The payload's associated data names its table and key id as well as its message id:
    /// an outbound payload copied into the inbox row of the same message id does not open.
    @Test(arguments: Backend.allCases) func aPayloadMovedToTheOtherTableDoesNotOpen(_ backend: Backend) throws {
        let scratch = try ScratchStore(backend)
        defer { scratch.remove() }
        let store = scratch.store
        let id = "2e3f4a5b-6c7d-4e8f-8091-a2b3c4d5e6f7"
        _ = try store.enqueue(message(id, payload: Data("uitgaand".utf8)), now: t0, context: ops)
        _ = try store.receive(
            InboundMessage(messageID: Fixtures.id(id), kind: .returnLetter, sender: "gp", payload: Data("inkomend".utf8)), now: t0,
            context: ops)
        #expect(try store.inboundPayload(id, now: t0, context: ops) == Data("inkomend".utf8))
        try scratch.sql(
            """
            UPDATE inbox SET payload = (SELECT payload FROM outbox WHERE message_id = '\(id)'),
                key_id = (SELECT key_id FROM outbox WHERE message_id = '\(id)') WHERE message_id = '\(id)'
            """)
        #expect(throws: PayloadKeyRing.Failure.self) { try store.inboundPayload(id, now: t0, context: ops) }
    }

    /// With an audit key, a client's pseudonym comes from it: removing the oldest payload key
    /// after a rotation leaves every pseudonym as it was.
    @Test func pseudonymsSurvivePayloadKeyRotation() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let auditKeyFile = folder.appendingPathComponent("audit.key")
        try AuditKey.createKeyFile(at: auditKeyFile)
        let auditKey = try AuditKey.load(file: auditKeyFile)
        let path = folder.appendingPathComponent("koerier.sqlite").path
        let first = try MessageStores.embedded(
            path: path, keys: try PayloadKeyRing(keys: [("k1", SymmetricKey(size: .bits256))]), auditKey: auditKey)
        let before = first.clientReferencer.reference(bsn: "999990019")
        let rotated = try MessageStores.embedded(
            path: path, keys: try PayloadKeyRing(keys: [("k2", SymmetricKey(size: .bits256))]), auditKey: auditKey)
        #expect(rotated.clientReferencer.reference(bsn: "999990019") == before)
        #expect(rotated.clientReferencer.reference(bsn: "999990020") != before)
    }

    @Test func aKeyFileOthersCanReadIsRefused() throws {
        let folder = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let keyFile = folder.appendingPathComponent("payload.keys")
        try PayloadKeyRing.createKeyFile(at: keyFile)
        _ = try PayloadKeyRing.load(file: keyFile)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyFile.path)
        #expect {
            try PayloadKeyRing.load(file: keyFile)
        } throws: { error in
            String(describing: error).contains("mode 644") && String(describing: error).contains("chmod 600")
        }
    }

    @Test(arguments: Backend.allCases) func concurrentProducersLoseNothing(_ backend: Backend) async throws {
        let scratch = try ScratchStore(backend)
        defer { scratch.remove() }
        let store = scratch.store
        let ids = (0..<200).map { _ in MessageID.generate() }
        let t0 = self.t0
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in ids {
                let ops = self.ops
                group.addTask {
                    // Off the cooperative pool, as the store's blocking calls must be.
                    _ = try await store.transaction {
                        try $0.enqueue(
                            OutboundMessage(
                                messageID: id, kind: .returnLetter, recipientID: "gp", recipientType: .huisarts,
                                transactionID: try TransactionID("ZD20260302007"), urgency: .routine,
                                payload: Data(id.value.utf8)), now: t0, context: ops)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try store.counts().map { "\($0.state.rawValue) \($0.count)" } == ["queued 200"])
        let records = try store.records(state: nil, recipientType: nil, since: nil, limit: 1000)
        #expect(Set(records.map(\.messageID)) == Set(ids.map(\.value)))
        for record in records.prefix(20) { #expect(try store.payload(of: record.id, now: t0, context: ops) == Data(record.messageID.utf8)) }
    }
}

/// Indices collected from concurrent work.
final class LockedIndices: @unchecked Sendable {
    private let lock = NSLock()
    private var indices: Set<Int> = []
    func insert(_ index: Int) { lock.withLock { _ = indices.insert(index) } }
    var all: Set<Int> { lock.withLock { indices } }
}
