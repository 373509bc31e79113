import Foundation
import KoerierModel
import KoerierStore
import KoerierTestSupport
import Testing

/// A NOTIFY from one daemon's commit reaching another daemon's LISTEN loop. It runs with the
/// chaos test, apart from the rest (`--filter '\\.Cluster'`): its waits need the cooperative
/// pool, which the synchronous store tests beside it keep busy (seen: 10 s without a turn).
@Suite struct ClusterWakeupTests {
    @Test func aLetterQueuedByOneDaemonWakesTheOthers() async throws {
        let scratch = try ScratchStore(.postgres)
        defer { scratch.remove() }
        let listener = try scratch.reopen(keys: try PayloadKeyRing.load(file: scratch.keyFile))
        let rings = Counter()
        let listening = Task { await (listener as! any StoreWakeups).listenForWakeups { rings.add() } }
        defer { listening.cancel() }
        // The first ring comes when the listener is connected.
        try await Polling.until("the listener connected", timeout: 10) { rings.value >= 1 }
        let before = rings.value
        let letter = OutboundMessage(
            messageID: .generate(), kind: .returnLetter, recipientID: "gp-de-linde", recipientType: .huisarts,
            transactionID: try TransactionID("ZD20260302007"), urgency: .routine, payload: Data("<ReturnLetter/>".utf8))
        let ops = AuditContext(actor: "test", accessPoint: "unit-test")
        _ = try await scratch.store.transaction { try $0.enqueue(letter, now: Date(), context: ops) }
        try await Polling.until("a wake-up after the enqueue", timeout: 10) { rings.value > before }
    }
}
