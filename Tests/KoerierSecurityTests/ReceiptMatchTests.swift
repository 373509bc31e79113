import Foundation
import KoerierModel
import KoerierSecurity
import KoerierTestSupport
import Testing

@Suite(.ownThreads) struct ReceiptMatchTests {
    @Test func sha256OfKnownInput() {
        #expect(ReceiptMatch.sha256Hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(ReceiptMatch.sha256Hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func aReceiptMustNameTheMessageAndDigestItsExactBytes() throws {
        let original = try Repository.data(Repository.signedSamples.appendingPathComponent("return-letter-fase-2-rsa.xml"))
        let id = Fixtures.id("2e3f4a5b-6c7d-4e8f-8091-a2b3c4d5e6f7")
        var receipt = Fixtures.receipt()
        receipt.answeredMessageID = id
        receipt.answeredDigest = try SHA256Hex(ReceiptMatch.sha256Hex(original))
        try ReceiptMatch.require(receipt, answers: original, messageID: id)

        var changed = original
        changed.append(0x0A)  // one byte more: a different message
        #expect(throws: SignatureError.self) { try ReceiptMatch.require(receipt, answers: changed, messageID: id) }
        #expect(throws: SignatureError.self) {
            try ReceiptMatch.require(receipt, answers: original, messageID: Fixtures.id("0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"))
        }
    }
}
