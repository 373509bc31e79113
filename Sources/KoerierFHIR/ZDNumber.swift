/// ZorgDomein's transaction number: `ZD` or `ZP` and 9 digits (the reader drops an
/// `_ANTW` suffix first). Read from referrals and written on return letters alike.
enum ZDNumber {
    static func isValid<S: StringProtocol>(_ text: S) -> Bool {
        let prefix = text.prefix(2)
        let number = text.dropFirst(2)
        return (prefix == "ZD" || prefix == "ZP") && number.utf8.count == 9 && number.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
