import Foundation
import KoerierDelivery
import KoerierModel
import KoerierStore
import KoerierTestSupport
import Testing

/// `koerier serve` killed mid-burst and restarted: at-least-once sending plus the
/// receiver's deduplication by message id leave every letter acknowledged and held once.
@Suite(.serialized, .ownThreads) struct RestartTests {
    static func acknowledged(_ store: any MessageStore) throws -> Int {
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

    /// 300 letters to a GP gateway (a real `koerier serve` with the GP's identity, on a
    /// fixed port) that is killed and restarted twice, while the sender is killed and
    /// restarted once, with the example configuration's circuit settings (5 failures,
    /// probes up to 300 s apart; the first retry after 1 s here): every letter ends
    /// acknowledged and the GP holds each once.
    @Test func receiverRestartedTwiceAndSenderOnceDuring300Letters() async throws {
        let gpRig = try DeliveryRig()
        gpRig.identity = "gp"
        let gpPort = try LoopbackSocket(listen: false).port  // free now; the GP's gateway binds it each start
        try gpRig.configure(
            recipients: HTTPSDeliveryTests.gp(port: try gpRig.downPort()),
            delivery: """
                serve:
                  listen: "127.0.0.1:\(gpPort)"
                  admin: "127.0.0.1:0"
                  inbox: inbox
                """)
        let gp = ServeTests.Centre(rig: gpRig)
        let centre = try ServeTests.Centre(
            extra: "", gpPort: gpPort,
            delivery: "  circuit_failures: 5\n  circuit_pause_seconds: 300\n  max_attempts: 12\n  max_retry_seconds: 2\n")
        let ids = try centre.rig.enqueueLetters(300, to: "gp-de-linde")
        try await gp.start()
        try await centre.start()

        func kill(_ gateway: ServeTests.Centre, whenAcknowledged count: Int) async throws {
            try await Polling.until("\(count) letters acknowledged", timeout: 60) { try Self.acknowledged(centre.rig.store) >= count }
            let process = try #require(gateway.process)
            Foundation.kill(process.processIdentifier, SIGKILL)
            try await Polling.until("the gateway to die") { !process.isRunning }
        }
        try await kill(gp, whenAcknowledged: 30)
        try await Task.sleep(nanoseconds: 1_000_000_000)
        try await gp.start()
        try await kill(centre, whenAcknowledged: 100)
        try await centre.start()
        try await kill(gp, whenAcknowledged: 170)
        #expect(try Self.acknowledged(centre.rig.store) < ids.count, "the letters were all out before the last restart")
        try await Task.sleep(nanoseconds: 1_000_000_000)
        try await gp.start()

        try await Polling.until("every letter to be acknowledged", timeout: 90) { try Self.acknowledged(centre.rig.store) == ids.count }
        #expect(Set(try gpRig.store.inbound(state: nil, limit: 1000).map(\.messageID)) == Set(ids))
    }
}
