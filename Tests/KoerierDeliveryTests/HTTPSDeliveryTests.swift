import Foundation
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierServer
import KoerierStore
import KoerierTestSupport
import Testing

/// Delivery over HTTPS with mutual TLS to real listeners on loopback.
@Suite(.serialized) struct HTTPSDeliveryTests {
    static let letter = "return-letter-fase-2-rsa.xml"

    static func gp(port: Int, address: String? = nil) -> String {
        """
          - id: gp-de-linde
            name: Huisartsenpraktijk De Linde
            type: huisarts
            ura: "90000123"
            https:
              url: https://localhost:\(port)/v1/messages
              server_anchors: \(Repository.pki.appendingPathComponent("ca.pem").path)

        """
    }

    @Test func theGPReceivesTheLetterAndItsSignedReceiptAcknowledgesIt() async throws {
        let rig = try DeliveryRig()
        let port = DeliveryRig.freePort()
        try rig.configure(recipients: Self.gp(port: port))
        let received = Received()
        let responder = try rig.receiptingResponder(as: "gp", received: received)
        _ = try await rig.startListener(as: "gp", port: port) { await responder.respond($0) }
        let queued = try rig.enqueue(Self.letter, to: "gp-de-linde", type: .huisarts)

        let report = try await rig.worker().deliverDue()
        #expect(report.handled[.acknowledged] == 1)
        let record = try #require(try rig.store.record(queued.id))
        #expect(record.state == .acknowledged && record.receiptID != nil)
        // The GP got exactly the signed letter that was queued.
        let original = try Data(contentsOf: Repository.signedSamples.appendingPathComponent(Self.letter))
        #expect(received.all == [original])
        // The receipt is kept in the inbound queue; every step is audited and the chain holds.
        #expect(try rig.store.inbound(state: .processed, limit: 10).map(\.messageID) == [try #require(record.receiptID)])
        let events = try rig.store.auditEntries(limit: 50).map(\.event.kind)
        #expect(events.contains(.send) && events.contains(.acknowledge))
        #expect(try rig.store.verifyAudit() == nil)
        // Nothing is due any more: a second round sends nothing twice.
        #expect(try await rig.worker().deliverDue().total == 0)
        #expect(received.all.count == 1)
    }

    @Test func aReceiverThatIsDownThenUpGetsTheLetterOnce() async throws {
        let rig = try DeliveryRig()
        let port = DeliveryRig.freePort()
        try rig.configure(recipients: Self.gp(port: port))
        let queued = try rig.enqueue(Self.letter, to: "gp-de-linde", type: .huisarts)
        let worker = try rig.worker()

        #expect(try await worker.deliverDue().handled[.retrying] == 1)
        let waiting = try #require(try rig.store.record(queued.id))
        #expect(waiting.state == .retrying && waiting.attempts == 1)
        #expect(waiting.lastError?.contains("HTTPS") == true)

        let received = Received()
        let responder = try rig.receiptingResponder(as: "gp", received: received)
        _ = try await rig.startListener(as: "gp", port: port) { await responder.respond($0) }
        try await Task.sleep(nanoseconds: 1_100_000_000)  // the first retry is due after at most 1 s
        #expect(try await worker.deliverDue().handled[.acknowledged] == 1)
        #expect(try rig.store.record(queued.id)?.state == .acknowledged)
        #expect(try rig.store.record(queued.id)?.attempts == 2)
        try await Task.sleep(nanoseconds: 1_100_000_000)
        #expect(try await worker.deliverDue().total == 0)
        #expect(received.all.count == 1)
    }

    @Test func aClientErrorMakesTheRecordDeadWithTheReason() async throws {
        let rig = try DeliveryRig()
        let port = DeliveryRig.freePort()
        try rig.configure(recipients: Self.gp(port: port))
        _ = try await rig.startListener(as: "gp", port: port) { _ in
            ListenerAnswer(status: 422, body: Data("unknown patient at this practice\n".utf8))
        }
        let queued = try rig.enqueue(Self.letter, to: "gp-de-linde", type: .huisarts)
        #expect(try await rig.worker().deliverDue().handled[.dead] == 1)
        let record = try #require(try rig.store.record(queued.id))
        #expect(record.state == .dead)
        #expect(record.lastError == "HTTP 422: unknown patient at this practice")
    }

    @Test func aServerErrorIsRetriedAndGivesUpAfterMaxAttempts() async throws {
        let rig = try DeliveryRig()
        let port = DeliveryRig.freePort()
        try rig.configure(recipients: Self.gp(port: port), delivery: "")
        let calls = Received()
        _ = try await rig.startListener(as: "gp", port: port) { request in
            calls.add(request.body)
            return ListenerAnswer(status: 503, body: Data("maintenance\n".utf8))
        }
        let queued = try rig.enqueue(Self.letter, to: "gp-de-linde", type: .huisarts)
        let worker = try rig.worker()
        var states: [DeliveryState] = []
        for _ in 0..<4 {
            _ = try await worker.deliverDue()
            states.append(try #require(try rig.store.record(queued.id)).state)
            try await Task.sleep(nanoseconds: 1_100_000_000)
        }
        #expect(states == [.retrying, .retrying, .retrying, .dead])
        #expect(calls.all.count == 4)
        #expect(try rig.store.record(queued.id)?.lastError?.contains("gave up after 4 attempts") == true)
    }

    @Test func anUntrustedServerCertificateIsRefusedAndNothingIsSent() async throws {
        let rig = try DeliveryRig()
        let port = DeliveryRig.freePort()
        try rig.configure(recipients: Self.gp(port: port))
        let calls = Received()
        // Same name and organisation, but issued by a CA outside the recipient's anchors.
        _ = try await rig.startListener(as: "untrusted", port: port) { request in
            calls.add(request.body)
            return ListenerAnswer(status: 200, body: Data())
        }
        let queued = try rig.enqueue(Self.letter, to: "gp-de-linde", type: .huisarts)
        #expect(try await rig.worker().deliverDue().handled[.retrying] == 1)
        let record = try #require(try rig.store.record(queued.id))
        #expect(record.lastError?.lowercased().contains("certificate") == true)
        #expect(calls.all.isEmpty)
    }

    @Test func aReceiptThatDoesNotAnswerTheSentBytesLeavesTheRecordDeliveredOnly() async throws {
        let rig = try DeliveryRig()
        let port = DeliveryRig.freePort()
        try rig.configure(recipients: Self.gp(port: port))
        // A validly signed receipt, but for another message's bytes.
        let stale = try Data(contentsOf: Repository.signedSamples.appendingPathComponent("receipt-rejected-rsa.xml"))
        _ = try await rig.startListener(as: "gp", port: port) { _ in ListenerAnswer(status: 200, body: stale) }
        let queued = try rig.enqueue(Self.letter, to: "gp-de-linde", type: .huisarts)
        #expect(try await rig.worker().deliverDue().handled[.delivered] == 1)
        let record = try #require(try rig.store.record(queued.id))
        #expect(record.receiptID == nil)
        #expect(record.lastError?.hasPrefix("accepted without a valid receipt") == true)
    }

    @Test func aClinicalRecipientWithoutConsentIsBlockedAndNeverContacted() async throws {
        let rig = try DeliveryRig()
        let port = DeliveryRig.freePort()
        try rig.configure(
            recipients: """
                  - id: arbo
                    name: Arbodienst Voorbeeld
                    type: bedrijfsarts
                    ura: "90000789"
                    https:
                      url: https://localhost:\(port)/v1/messages
                      server_anchors: \(Repository.pki.appendingPathComponent("ca.pem").path)

                """)
        let received = Received()
        let responder = try rig.receiptingResponder(as: "arbo", received: received)
        _ = try await rig.startListener(as: "arbo", port: port) { await responder.respond($0) }
        let first = try rig.enqueue(Self.letter, to: "arbo", type: .bedrijfsarts)
        #expect(try await rig.worker().deliverDue().handled[.blocked] == 1)
        #expect(try rig.store.record(first.id)?.lastError?.hasPrefix("no-consent") == true)
        #expect(received.all.isEmpty)

        // With the client's consent for bedrijfsarts the next letter goes, and is acknowledged.
        try rig.recordConsent(bsn: "999990019", allowed: [.bedrijfsarts])
        let second = try rig.enqueue("return-letter-afsluiting-ecdsa.xml", to: "arbo", type: .bedrijfsarts)
        #expect(try await rig.worker().deliverDue().handled[.acknowledged] == 1)
        #expect(try rig.store.record(second.id)?.state == .acknowledged)
        #expect(received.all.count == 1)
    }

    @Test func aRecipientThatKeepsFailingIsPausedWithoutSpendingAttempts() async throws {
        let rig = try DeliveryRig()
        let port = DeliveryRig.freePort()  // nothing listens there
        try rig.configure(recipients: Self.gp(port: port), delivery: "  workers: 1\n  circuit_failures: 2\n  circuit_pause_seconds: 60\n")
        let records = try ["return-letter-fase-2-rsa.xml", "return-letter-afsluiting-ecdsa.xml", "referral-huisarts-rsa.xml"]
            .map { try rig.enqueue($0, to: "gp-de-linde", type: .huisarts) }
        let report = try await rig.worker().deliverDue()
        #expect(report.handled[.retrying] == 2 && report.handled[.queued] == 1)
        let paused = try #require(try records.compactMap { try rig.store.record($0.id) }.first { $0.state == .queued })
        #expect(paused.attempts == 0)
        #expect(paused.nextAttemptAt > Date().addingTimeInterval(50))
    }
}
