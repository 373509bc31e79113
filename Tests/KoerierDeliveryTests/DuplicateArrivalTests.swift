import Foundation
import KoerierDelivery
import KoerierModel
import KoerierServer
import KoerierStore
import KoerierTestSupport
import Testing

/// Two copies of one letter at the same moment (a partner that timed out and sent again
/// while the first copy waited for its flush): the second's look-up for an earlier receipt
/// runs before the first is stored. Made certain here by a look-up that misses; the store
/// itself (its unique receipt per message id) must then keep the copies apart.
@Suite(.serialized, .ownThreads) struct DuplicateArrivalTests {
    @Test func aCopyThatOvertakesTheLookUpGetsTheFirstReceiptAndOtherBytesGet409() throws {
        let rig = try DeliveryRig()
        // Look-ups 2 and 4 miss: the second and third arrivals race the first one's store.
        let (gateway, store) = try rig.receivingGateway(as: "gp", lookUpMisses: [2, 4])
        var (letter, centre, client) = try rig.centreLetter()
        let original = try centre.signedXML(.returnLetter(letter))

        let first = gateway.answer(InboundRequest(body: original, clientCertificateDER: client))
        #expect(first.status == 200)
        // The same bytes again, past the look-up: the receipt given the first time, not a new one.
        let again = gateway.answer(InboundRequest(body: original, clientCertificateDER: client))
        #expect(again.status == 200 && again.body == first.body)
        // Other bytes under the same id, past the look-up: refused, never a receipt for bytes not stored.
        letter.soep.plan += " Aangepast."
        let other = gateway.answer(InboundRequest(body: try centre.signedXML(.returnLetter(letter)), clientCertificateDER: client))
        #expect(other.status == 409, "\(other.status) \(String(decoding: other.body, as: UTF8.self))")

        #expect(try store.inboundCounts().values.reduce(0, +) == 1)
        #expect(try store.inboundPayload(letter.envelope.messageID.value, now: Date(), context: DeliveryRig.context) == original)
        #expect(try store.issuedReceipt(for: letter.envelope.messageID.value) == first.body)
        #expect(try store.verifyAudit() == nil)
    }

    /// A letter accepted once and sent again after its signer stopped being trusted (its
    /// certificate revoked or expired since; here the gateway made again with a root that
    /// did not issue it): the copy gets the receipt it got, not a rejection that would
    /// contradict it. A new letter from that signer, and other bytes under the first id,
    /// go through every check and are rejected.
    @Test func aCopyOfAnAcceptedLetterGetsItsReceiptAfterTheSignerStoppedBeingTrusted() throws {
        let rig = try DeliveryRig()
        var (letter, centre, client) = try rig.centreLetter()
        let original = try centre.signedXML(.returnLetter(letter))
        let first = try rig.receivingGateway(as: "gp").responder.answer(InboundRequest(body: original, clientCertificateDER: client))
        #expect(first.status == 200)
        #expect(IdentityBindingTests.rejection(try IdentityBindingTests.receipt(in: first, rig: rig, signedBy: "90000123")) == nil)

        let (distrusting, store) = try rig.receivingGateway(as: "gp", anchors: "untrusted-ca.pem")
        let again = distrusting.answer(InboundRequest(body: original, clientCertificateDER: client))
        #expect(again.status == 200 && again.body == first.body)

        letter.soep.plan += " Aangepast."
        let otherBytes = distrusting.answer(InboundRequest(body: try centre.signedXML(.returnLetter(letter)), clientCertificateDER: client))
        letter.envelope.messageID = .generate()
        let newLetter = distrusting.answer(InboundRequest(body: try centre.signedXML(.returnLetter(letter)), clientCertificateDER: client))
        for answer in [otherBytes, newLetter] {
            let rejection = IdentityBindingTests.rejection(try IdentityBindingTests.receipt(in: answer, rig: rig, signedBy: "90000123"))
            #expect(rejection?.code == .untrustedSender, "\(answer.status) \(String(decoding: answer.body, as: UTF8.self))")
        }
        #expect(try store.inboundCounts().values.reduce(0, +) == 1)
        #expect(try store.verifyAudit() == nil)
    }
}
