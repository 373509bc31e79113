import Foundation
import KoerierDelivery
import KoerierModel
import KoerierStore
import KoerierTestSupport
import Testing

/// The scheduler's lanes against real partners on loopback: a partner that hangs or is
/// slow holds only its own lane, and urgent letters overtake routine ones.
@Suite(.ownThreads) struct LaneTests {
    /// A directory entry for GP De Linde's identity under `id` (letters to the practice
    /// pass the addressee check whichever of its gateways they go to).
    static func practice(_ id: String, port: Int, concurrency: Int = 2) -> String {
        """
          - id: \(id)
            name: Huisartsenpraktijk De Linde
            type: huisarts
            ura: "90000123"
            concurrency: \(concurrency)
            https:
              url: https://localhost:\(port)/v1/messages
              server_anchors: \(Repository.pki.appendingPathComponent("ca.pem").path)

        """
    }

    /// Runs the scheduler as `serve` does until `body` returns, then stops it.
    static func whileDelivering<T>(_ worker: DeliveryWorker, _ body: () async throws -> T) async throws -> T {
        let running = Task { try await worker.run { false } }
        defer { worker.stop() }
        let result = try await body()
        worker.stop()
        try await running.value
        return result
    }

    /// 40 letters for a stuck partner are queued before 5 for a healthy one: the healthy
    /// partner's letters are acknowledged while every transfer to the stuck one is still
    /// waiting for its answer (none has timed out, none was retried).
    @Test(arguments: ["hung", "slow"]) func aStuckPartnerHoldsOnlyItsOwnLane(kind: String) async throws {
        let rig = try DeliveryRig()
        let stuckPort: Int
        if kind == "hung" {
            stuckPort = try rig.hungPort()
        } else {
            let (slowResponder, _) = try rig.receivingGateway(as: "gp", named: "slow-gateway")
            stuckPort = try await rig.startListener(as: "gp") { request in
                try? await Task.sleep(nanoseconds: 5_000_000_000)
                return await slowResponder.respond(request)
            }
        }
        let (responder, gpStore) = try rig.receivingGateway(as: "gp")
        let healthyPort = try await rig.startListener(as: "gp") { await responder.respond($0) }
        try rig.configure(
            recipients: Self.practice("stuck-gateway", port: stuckPort) + Self.practice("gp-de-linde", port: healthyPort),
            // Timeouts no loaded test machine reaches before the healthy letters are through
            // (libcurl's connect timeout covers the TLS handshake the hung partner never answers).
            delivery: "  total_timeout_seconds: 60\n  connect_timeout_seconds: 60\n")
        try rig.enqueueLetters(40, to: "stuck-gateway")
        let healthy = try rig.enqueueLetters(5, to: "gp-de-linde")

        let stuckStates = try await Self.whileDelivering(try rig.worker(drainTimeout: 1)) { () async throws -> [DeliveryState] in
            try await Polling.until("the healthy GP's letters to be acknowledged") {
                try rig.store.records(state: .acknowledged, recipientType: nil, since: nil, limit: 100).count == healthy.count
            }
            return try rig.store.records(state: nil, recipientType: nil, since: nil, limit: 100)
                .filter { $0.recipientID == "stuck-gateway" }.map(\.state)
        }
        #expect(stuckStates.count == 40)
        #expect(stuckStates.allSatisfy { $0 == .sending || $0 == .queued }, "\(stuckStates)")
        #expect(stuckStates.filter { $0 == .sending }.count == 2)  // the lane's limit, no more
        #expect(try gpStore.inbound(state: nil, limit: 100).count == healthy.count)
    }

    /// An urgent letter queued while 50 routine ones wait for the same partner goes next.
    @Test func anUrgentLetterOvertakesRoutineOnesToTheSamePartner() async throws {
        let rig = try DeliveryRig()
        let (responder, _) = try rig.receivingGateway(as: "gp")
        let arrivals = Received()
        let port = try await rig.startListener(as: "gp") { request in
            arrivals.add(request.body)
            try? await Task.sleep(nanoseconds: 50_000_000)
            return await responder.respond(request)
        }
        try rig.configure(recipients: Self.practice("gp-de-linde", port: port, concurrency: 1))
        try rig.enqueueLetters(50, to: "gp-de-linde")
        let worker = try rig.worker()
        let (urgentID, arrivedBefore) = try await Self.whileDelivering(worker) { () async throws -> (String, Int) in
            try await Polling.until("routine letters to be under way") { arrivals.all.count >= 3 }
            let before = arrivals.all.count
            let urgent = try rig.enqueueLetters(1, to: "gp-de-linde", urgency: .urgent)[0]
            worker.wake()
            try await Polling.until("the urgent letter to arrive") {
                arrivals.all.contains { $0.range(of: Data(urgent.utf8)) != nil }
            }
            return (urgent, before)
        }
        let position = try #require(arrivals.all.firstIndex { $0.range(of: Data(urgentID.utf8)) != nil })
        // At most the one transfer in flight (and one leased at that instant) went before it.
        #expect(position <= arrivedBefore + 1, "urgent letter arrived as number \(position + 1) of \(arrivals.all.count)")
        #expect(arrivals.all.count < 50)
    }
}
