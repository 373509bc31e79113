import Foundation
import GRDB
import KoerierDelivery
import KoerierModel
import KoerierSecurity
import KoerierServer
import KoerierStore
import KoerierTestSupport
import Testing

/// Delivery over HTTPS with mutual TLS to real listeners on loopback.
@Suite(.serialized, .ownThreads) struct HTTPSDeliveryTests {
    static let letter = "return-letter-fase-2-rsa.xml"

    static func arbo(port: Int) -> String {
        """
          - id: arbo
            name: Arbodienst Voorbeeld
            type: bedrijfsarts
            ura: "90000789"
            https:
              url: https://localhost:\(port)/v1/messages
              server_anchors: \(Repository.pki.appendingPathComponent("ca.pem").path)

        """
    }

    static func gp(port: Int, host: String = "localhost", address: String? = nil, id: String = "gp-de-linde") -> String {
        """
          - id: \(id)
            name: Huisartsenpraktijk De Linde
            type: huisarts
            ura: "90000123"
            https:
              url: https://\(host):\(port)/v1/messages
              server_anchors: \(Repository.pki.appendingPathComponent("ca.pem").path)
        \(address.map { "      address: \($0)\n" } ?? "")
        """
    }

    /// The GP's gateway on loopback answering with signed receipts, and the rig's directory
    /// pointing at it; what the gateway received.
    static func receivingGP(_ rig: DeliveryRig) async throws -> Received {
        let received = Received()
        let responder = try rig.receiptingResponder(as: "gp", received: received)
        let port = try await rig.startListener(as: "gp") { await responder.respond($0) }
        try rig.configure(recipients: gp(port: port))
        return received
    }

    /// Waits until a record's next attempt is due (the retry delay is at most 1 s here).
    static func waitUntilDue(_ rig: DeliveryRig, _ id: Int64) async throws {
        try await Polling.until("record \(id) due again") { (try rig.store.record(id)?.nextAttemptAt ?? .distantFuture) <= Date() }
    }

    @Test func theGPReceivesTheLetterAndItsSignedReceiptAcknowledgesIt() async throws {
        let rig = try DeliveryRig()
        let received = try await Self.receivingGP(rig)
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
        try rig.configure(recipients: Self.gp(port: try rig.downPort()))
        let queued = try rig.enqueue(Self.letter, to: "gp-de-linde", type: .huisarts)

        #expect(try await rig.worker().deliverDue().handled[.retrying] == 1)
        let waiting = try #require(try rig.store.record(queued.id))
        #expect(waiting.state == .retrying && waiting.attempts == 1)
        #expect(waiting.lastError?.contains("HTTPS") == true)

        // The GP's gateway comes back (on the port its kernel gave it; the directory follows).
        let received = try await Self.receivingGP(rig)
        try await Self.waitUntilDue(rig, queued.id)
        #expect(try await rig.worker().deliverDue().handled[.acknowledged] == 1)
        #expect(try rig.store.record(queued.id)?.state == .acknowledged)
        #expect(try rig.store.record(queued.id)?.attempts == 2)
        #expect(try await rig.worker().deliverDue().total == 0)
        #expect(received.all.count == 1)
    }

    @Test func aClientErrorMakesTheRecordDeadWithTheReason() async throws {
        let rig = try DeliveryRig()
        let port = try await rig.startListener(as: "gp") { _ in
            ListenerAnswer(status: 422, body: Data("unknown patient at this practice\n".utf8))
        }
        try rig.configure(recipients: Self.gp(port: port))
        let queued = try rig.enqueue(Self.letter, to: "gp-de-linde", type: .huisarts)
        #expect(try await rig.worker().deliverDue().handled[.dead] == 1)
        let record = try #require(try rig.store.record(queued.id))
        #expect(record.state == .dead)
        #expect(record.lastError == "HTTP 422: unknown patient at this practice")
    }

    @Test func aServerErrorIsRetriedAndGivesUpAfterMaxAttempts() async throws {
        let rig = try DeliveryRig()
        let calls = Received()
        let port = try await rig.startListener(as: "gp") { request in
            calls.add(request.body)
            return ListenerAnswer(status: 503, body: Data("maintenance\n".utf8))
        }
        try rig.configure(recipients: Self.gp(port: port), delivery: "")
        let queued = try rig.enqueue(Self.letter, to: "gp-de-linde", type: .huisarts)
        let worker = try rig.worker()
        var states: [DeliveryState] = []
        for round in 0..<4 {
            if round > 0 { try await Self.waitUntilDue(rig, queued.id) }
            _ = try await worker.deliverDue()
            states.append(try #require(try rig.store.record(queued.id)).state)
        }
        #expect(states == [.retrying, .retrying, .retrying, .dead])
        #expect(calls.all.count == 4)
        #expect(try rig.store.record(queued.id)?.lastError?.contains("gave up after 4 attempts") == true)
    }

    @Test func aPartnerThatNeverAnswersTimesOutAndIsRetried() async throws {
        let rig = try DeliveryRig()
        try rig.configure(
            recipients: Self.gp(port: try rig.hungPort()), delivery: "  connect_timeout_seconds: 1\n  total_timeout_seconds: 2\n"
        )
        let queued = try rig.enqueue(Self.letter, to: "gp-de-linde", type: .huisarts)
        #expect(try await rig.worker().deliverDue().handled[.retrying] == 1)
        let record = try #require(try rig.store.record(queued.id))
        #expect(record.state == .retrying && record.attempts == 1)
        #expect(
            record.lastError?.lowercased().contains("timeout") == true || record.lastError?.lowercased().contains("timed out") == true,
            "\(record.lastError ?? "")")
    }

    @Test func anUntrustedServerCertificateIsRefusedAndNothingIsSent() async throws {
        let rig = try DeliveryRig()
        let calls = Received()
        // Same name and organisation, but issued by a CA outside the recipient's anchors.
        let port = try await rig.startListener(as: "untrusted") { request in
            calls.add(request.body)
            return ListenerAnswer(status: 200, body: Data())
        }
        try rig.configure(recipients: Self.gp(port: port))
        let queued = try rig.enqueue(Self.letter, to: "gp-de-linde", type: .huisarts)
        #expect(try await rig.worker().deliverDue().handled[.retrying] == 1)
        let record = try #require(try rig.store.record(queued.id))
        #expect(record.lastError?.lowercased().contains("certificate") == true)
        #expect(calls.all.isEmpty)
    }

    @Test func aServerWhoseCertificateNamesAnotherHostIsRefusedAndNothingIsSent() async throws {
        let rig = try DeliveryRig()
        let calls = Received()
        // A trusted certificate (localhost, 127.0.0.1), reached under a name it does not carry.
        let port = try await rig.startListener(as: "gp") { request in
            calls.add(request.body)
            return ListenerAnswer(status: 200, body: Data())
        }
        try rig.configure(recipients: Self.gp(port: port, host: "huisarts-delinde.test", address: "127.0.0.1"))
        let queued = try rig.enqueue(Self.letter, to: "gp-de-linde", type: .huisarts)
        #expect(try await rig.worker().deliverDue().handled[.retrying] == 1)
        let record = try #require(try rig.store.record(queued.id))
        #expect(record.lastError?.contains("huisarts-delinde.test") == true, "\(record.lastError ?? "")")
        #expect(calls.all.isEmpty)
    }

    @Test func aReceiptThatDoesNotAnswerTheSentBytesLeavesTheRecordDeliveredOnly() async throws {
        let rig = try DeliveryRig()
        // A validly signed receipt, but for another message's bytes.
        let stale = try Data(contentsOf: Repository.signedSamples.appendingPathComponent("receipt-rejected-rsa.xml"))
        let port = try await rig.startListener(as: "gp") { _ in ListenerAnswer(status: 200, body: stale) }
        try rig.configure(recipients: Self.gp(port: port))
        let queued = try rig.enqueue(Self.letter, to: "gp-de-linde", type: .huisarts)
        #expect(try await rig.worker().deliverDue().handled[.delivered] == 1)
        let record = try #require(try rig.store.record(queued.id))
        #expect(record.receiptID == nil)
        #expect(record.lastError?.hasPrefix("accepted without a valid receipt") == true)
    }

    @Test func aSignedRejectedReceiptForTheSentBytesMakesTheRecordDead() async throws {
        let rig = try DeliveryRig()
        let gp = try ServeTests.gpSigning(rig.codec)
        let codec = rig.codec
        // The GP's system reads the letter and refuses it, with a receipt about exactly these bytes.
        let port = try await rig.startListener(as: "gp") { request in
            do {
                let envelope = try codec.decode(request.body).envelope
                let receipt = try gp.receipt(
                    answering: envelope, bytes: request.body,
                    outcome: .rejected(code: .unknownReceiver, text: "patient not registered here"), from: envelope.receiver)
                return ListenerAnswer(status: 200, body: receipt)
            } catch {
                return ListenerAnswer(status: 500, body: Data("\(error)".utf8))
            }
        }
        try rig.configure(recipients: Self.gp(port: port))
        let queued = try rig.enqueue(Self.letter, to: "gp-de-linde", type: .huisarts)
        #expect(try await rig.worker().deliverDue().handled[.dead] == 1)
        let record = try #require(try rig.store.record(queued.id))
        #expect(record.state == .dead && record.receiptID != nil)
        #expect(record.lastError == "rejected by gp-de-linde: unknown-receiver: patient not registered here", "\(record.lastError ?? "")")
    }

    @Test func aClinicalRecipientWithoutConsentIsBlockedAndNeverContacted() async throws {
        let rig = try DeliveryRig()
        let received = Received()
        let responder = try rig.receiptingResponder(as: "arbo", received: received)
        let port = try await rig.startListener(as: "arbo") { await responder.respond($0) }
        try rig.configure(recipients: Self.arbo(port: port))
        let first = try rig.enqueue(Self.letter, to: "arbo", type: .bedrijfsarts)
        #expect(try await rig.worker().deliverDue().handled[.blocked] == 1)
        #expect(try rig.store.record(first.id)?.lastError?.hasPrefix("no-consent") == true)
        #expect(received.all.isEmpty)

        // With the client's consent for bedrijfsarts the next letter goes, and is acknowledged.
        try rig.grantConsent(["arbo"])
        let second = try rig.enqueue("return-letter-afsluiting-ecdsa.xml", to: "arbo", type: .bedrijfsarts)
        #expect(try await rig.worker().deliverDue().handled[.acknowledged] == 1)
        #expect(try rig.store.record(second.id)?.state == .acknowledged)
        #expect(received.all.count == 1)
    }

    /// 408, 425, 429 and 503 mean "not now": retried (after the partner's Retry-After), not dead.
    @Test(arguments: [408, 425, 429, 503]) func aPartnerThatAsksForLaterIsRetried(status: Int) async throws {
        let rig = try DeliveryRig()
        let port = try await rig.startListener(as: "gp") { _ in
            ListenerAnswer(status: status, body: Data("busy\n".utf8), retryAfter: 30)
        }
        try rig.configure(recipients: Self.gp(port: port), delivery: "  max_retry_seconds: 300\n")
        let record = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "gp-de-linde", type: .huisarts)
        let before = Date()
        #expect(try await rig.worker().deliverDue().handled == [.retrying: 1])
        let after = try #require(try rig.store.record(record.id))
        #expect(after.state == .retrying && after.lastError?.hasPrefix("HTTP \(status)") == true)
        // The partner's Retry-After (30 s) outweighs the first retry delay (1 s here).
        #expect(after.nextAttemptAt >= before.addingTimeInterval(29))
    }

    /// A blocked record goes back to the queue with `koerier retry` once what it lacked is there.
    @Test func opsPutABlockedRecordBackOnceConsentIsThere() async throws {
        let rig = try DeliveryRig()
        let received = Received()
        let responder = try rig.receiptingResponder(as: "arbo", received: received)
        let port = try await rig.startListener(as: "arbo") { await responder.respond($0) }
        try rig.configure(recipients: Self.arbo(port: port))
        let record = try rig.enqueue("return-letter-afsluiting-ecdsa.xml", to: "arbo", type: .bedrijfsarts)
        #expect(try await rig.worker().deliverDue().handled == [.blocked: 1])
        try rig.grantConsent(["arbo"])
        let retry = try ProcessRunner.koerier(["retry", "\(record.id)", "--config", rig.folder.appendingPathComponent("koerier.yaml").path])
        #expect(retry.exitCode == 0, "\(retry.stderr)")
        #expect(try rig.store.auditEntries(limit: 1).first?.event.kind == .retry)
        #expect(try await rig.worker().deliverDue().handled == [.acknowledged: 1])
        #expect(received.all.count == 1)
    }

    /// Runs `sql` on the store's real file through a connection of its own, as a disk, a
    /// hand or a fault would change it behind the daemon's back.
    static func alterStoreFile(_ rig: DeliveryRig, _ sql: String, arguments: StatementArguments = []) async throws {
        let database = try DatabaseQueue(path: rig.folder.appendingPathComponent("koerier.sqlite").path)
        try await database.write { db in try db.execute(sql: sql, arguments: arguments) }
        try database.close()
    }

    /// A payload that no longer opens (altered on disk here; a key that left the key file
    /// alike) blocks its own record, with the reason, and holds back no other letter.
    @Test func aPayloadThatNoLongerOpensBlocksOnlyItsOwnRecord() async throws {
        let rig = try DeliveryRig()
        let received = try await Self.receivingGP(rig)
        let spoiled = try rig.enqueue(Self.letter, to: "gp-de-linde", type: .huisarts)
        let sound = try rig.enqueue("return-letter-afsluiting-ecdsa.xml", to: "gp-de-linde", type: .huisarts)
        // One byte of the sealed payload flipped, as a disk or a hand would: AES-GCM refuses it.
        try await Self.alterStoreFile(
            rig,
            """
            UPDATE outbox SET payload = CAST(substr(payload, 1, 20)
                || CASE WHEN substr(payload, 21, 1) = X'FF' THEN X'00' ELSE X'FF' END || substr(payload, 22) AS BLOB)
            WHERE id = ?
            """, arguments: [spoiled.id])

        #expect(try await rig.worker().deliverDue().handled == [.acknowledged: 1, .blocked: 1])
        #expect(try rig.store.record(sound.id)?.state == .acknowledged)
        let blocked = try #require(try rig.store.record(spoiled.id))
        #expect(blocked.state == .blocked)
        #expect(blocked.lastError?.hasPrefix("payload-unreadable: ") == true, "\(blocked.lastError ?? "")")
        #expect(blocked.lastError?.contains("koerier retry \(spoiled.id)") == true)
        #expect(received.all.count == 1)
        #expect(try rig.store.verifyAudit() == nil)
    }

    /// An outcome the store refuses on its own (a trigger in the real file here; a row it
    /// cannot read back or a value it will not take alike) is set aside: the pass's other
    /// letters are settled and the refused record keeps its lease until it expires, to be
    /// tried again. Before, that one outcome undid every pass and held back every lane.
    @Test func anOutcomeTheStoreRefusesHoldsBackNoOtherLetter() async throws {
        let rig = try DeliveryRig()
        let received = try await Self.receivingGP(rig)
        let refused = try rig.enqueue(Self.letter, to: "gp-de-linde", type: .huisarts)
        let sound = try rig.enqueue("return-letter-afsluiting-ecdsa.xml", to: "gp-de-linde", type: .huisarts)
        try await Self.alterStoreFile(
            rig,
            """
            CREATE TRIGGER refuse_one BEFORE UPDATE OF state ON outbox
            WHEN NEW.id = \(refused.id) AND NEW.state = 'acknowledged'
            BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
            """)

        let worker = try rig.worker()
        #expect(try await worker.deliverDue().handled == [.acknowledged: 1])
        #expect(try rig.store.record(sound.id)?.state == .acknowledged)
        #expect(try rig.store.record(refused.id)?.state == .sending)
        let setAside = try rig.store.auditEntries(limit: 50).first { $0.event.outcome.hasPrefix("set aside") }
        #expect(setAside?.event.messageID == refused.messageID && setAside?.event.kind == .retry, "\(String(describing: setAside))")
        #expect(received.all.count == 2)
        #expect(try rig.store.verifyAudit() == nil)
    }

    /// A copy made for another clinical recipient is signed once, at enqueue (ECDSA
    /// signatures differ each time they are made): when the answer to its first attempt is
    /// lost to a timeout, the retry sends the very same bytes, and the receiver's original
    /// receipt settles it.
    @Test func anECDSACopyWhoseFirstAnswerIsLostIsRetriedWithTheSameBytes() async throws {
        let rig = try DeliveryRig()
        rig.identity = "centre-ec"
        let (responder, arboStore) = try rig.receivingGateway(as: "arbo")
        let arrivals = Received()
        let port = try await rig.startListener(as: "arbo") { request in
            arrivals.add(request.body)
            let answer = await responder.respond(request)
            // The first answer comes after the sender has given up waiting.
            if arrivals.all.count == 1 { try? await Task.sleep(nanoseconds: 4_000_000_000) }
            return answer
        }
        try rig.configure(recipients: Self.arbo(port: port), delivery: "  total_timeout_seconds: 2\n")
        try rig.grantConsent(["arbo"])
        // Addressed to the GP: the occupational physician gets a re-addressed, re-signed copy.
        let record = try rig.enqueue("return-letter-fase-2-rsa.xml", to: "arbo", type: .bedrijfsarts)
        let copyID = try #require(record.preparedMessageID)
        #expect(copyID != record.messageID)
        let worker = try rig.worker()
        #expect(try await worker.deliverDue().handled == [.retrying: 1])
        try await Task.sleep(nanoseconds: 1_100_000_000)
        #expect(try await worker.deliverDue().handled == [.acknowledged: 1])
        let sent = arrivals.all
        #expect(sent.count == 2 && sent[0] == sent[1])
        #expect(sent.first.map { String(decoding: $0, as: UTF8.self).contains("xmldsig-more#ecdsa-sha256") } == true)
        #expect(try arboStore.inbound(state: nil, limit: 10).map(\.messageID) == [copyID])
    }

    @Test func aPartnerThatIsDownIsProbedOneLetterAtATimeWithoutSpendingAttempts() async throws {
        let rig = try DeliveryRig()
        try rig.configure(
            recipients: Self.gp(port: try rig.downPort()) + "    concurrency: 1\n",
            delivery: "  circuit_failures: 1\n  circuit_pause_seconds: 60\n")
        let records = try ["return-letter-fase-2-rsa.xml", "return-letter-afsluiting-ecdsa.xml"]
            .map { try rig.enqueue($0, to: "gp-de-linde", type: .huisarts) }
        let worker = try rig.worker()
        // The failure opens the lane's circuit: the second letter is not attempted.
        let first = try await worker.deliverDue()
        #expect(first.handled == [.retrying: 1])
        let waiting = try #require(try records.compactMap { try rig.store.record($0.id) }.first { $0.state == .queued })
        #expect(waiting.attempts == 0)
        #expect(try await worker.deliverDue().total == 0)  // still open
        // After the first retry delay (1 s here) the circuit probes with one letter, urgent or oldest first.
        try await Task.sleep(nanoseconds: 1_100_000_000)
        let probe = try await worker.deliverDue()
        #expect(probe.total == 1)
        #expect(try rig.store.record(waiting.id)?.attempts == 1)
        // The probe failed: the next one waits twice as long.
        try await Task.sleep(nanoseconds: 1_100_000_000)
        #expect(try await worker.deliverDue().total == 0)
    }
}
