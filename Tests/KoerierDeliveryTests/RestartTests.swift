import Foundation
import KoerierDelivery
import KoerierModel
import KoerierStore
import KoerierTestSupport
import Testing

/// `koerier serve` killed mid-burst and restarted: at-least-once sending plus the
/// receiver's deduplication by message id leave every letter acknowledged and held once.
@Suite(.serialized) struct RestartTests {
    static func acknowledged(_ store: SQLiteMessageStore) throws -> Int {
        try store.counts().filter { $0.state == .acknowledged }.map(\.count).reduce(0, +)
    }

    @Test func aSenderKilledMidBurstDeliversEveryLetterOnceAfterRestart() async throws {
        let gpSide = try DeliveryRig()
        let (responder, gpStore) = try gpSide.receivingGateway(as: "gp")
        let gpPort = try await gpSide.startListener(as: "gp") { await responder.respond($0) }
        let centre = try ServeTests.Centre(gpPort: gpPort)
        let ids = try centre.rig.enqueueLetters(500, to: "gp-de-linde")
        try await centre.start()
        try await Polling.until("part of the burst to be acknowledged", timeout: 60) { try Self.acknowledged(centre.rig.store) >= 100 }
        let killed = try #require(centre.process)
        kill(killed.processIdentifier, SIGKILL)
        try await Polling.until("the sender to die") { !killed.isRunning }
        let atKill = try Self.acknowledged(centre.rig.store)
        #expect(atKill < ids.count, "the burst was over before the kill: the test proves nothing")

        try await centre.start()
        try await Polling.until("every letter to be acknowledged", timeout: 120) { try Self.acknowledged(centre.rig.store) == ids.count }
        #expect(Set(try gpStore.inbound(state: nil, limit: 1000).map(\.messageID)) == Set(ids))
        let acknowledgements = try centre.rig.store.auditEntries(limit: 100_000).map(\.event).filter { $0.kind == .acknowledge }
        #expect(acknowledgements.count == ids.count && Set(acknowledgements.compactMap(\.messageID)) == Set(ids))
    }
}
