import Foundation
import KoerierModel
import Testing

@Suite struct IdentifierTests {
    @Test(arguments: ["999990019", "123456782", "111222333", "999990032"])
    func validBSNsPassTheElfproef(_ digits: String) throws {
        #expect(try BSN(digits).digits == digits)
    }

    @Test func elfproefMatchesTheDefinitionForEveryNumberInARange() throws {
        // Independent restatement of 9·d1 + … + 2·d8 − d9 ≡ 0 (mod 11) over 20,000 numbers.
        for number in 999_980_000..<1_000_000_000 {
            let digits = String(number)
            let d = digits.map { Int(String($0))! }
            let sum = (0..<8).reduce(0) { $0 + (9 - $1) * d[$1] } - d[8]
            #expect(BSN.passesElfproef(digits) == (sum % 11 == 0), "\(digits)")
        }
    }

    @Test func failingBSNNamesTheRuleAndHidesTheValue() {
        #expect(throws: FieldFormatError(rule: "bsn-elfproef", message: "BSN fails the elfproef (11-test)")) { try BSN("123456789") }
        #expect(throws: FieldFormatError.self) { try BSN("12345678") }
        #expect(throws: FieldFormatError.self) { try BSN("12345678a") }
        #expect(String(describing: try! BSN("999990019")) == "BSN(***)")
    }

    @Test func agbAndUraAreEightDigits() throws {
        #expect(try AGBCode("01012345").value == "01012345")
        #expect(throws: FieldFormatError.self) { try AGBCode("1012345") }
        #expect(throws: FieldFormatError.self) { try URANumber("9000012X") }
    }

    @Test func messageIDsAreLowerCaseUUIDs() throws {
        let generated = MessageID.generate()
        #expect(generated.value == generated.value.lowercased())
        #expect(try MessageID(generated.value) == generated)
        #expect(throws: FieldFormatError.self) { try MessageID("3F1C2A9E-5B7D-4E21-9A0C-7D1E2F3A4B5C") }
        #expect(throws: FieldFormatError.self) { try MessageID("not-a-uuid") }
        #expect(MessageID.generate() != MessageID.generate())
    }

    @Test func transactionIDsFollowTheZorgDomeinShape() throws {
        #expect(try TransactionID("ZD20261102001").value == "ZD20261102001")
        #expect(throws: FieldFormatError.self) { try TransactionID("zd20261102001") }
        #expect(throws: FieldFormatError.self) { try TransactionID("ZD123") }
        #expect(throws: FieldFormatError.self) { try TransactionID("ZD2026110200A") }
    }

    @Test func icpcCodes() throws {
        #expect(try IcpcCode(code: "P78", label: "Surmenage").code == "P78")
        #expect(try IcpcCode(code: "T90.02", label: "Diabetes").code == "T90.02")
        #expect(throws: FieldFormatError.self) { try IcpcCode(code: "C78", label: "no chapter C") }
        #expect(throws: FieldFormatError.self) { try IcpcCode(code: "P7", label: "") }
    }
}
