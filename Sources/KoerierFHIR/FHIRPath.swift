/// Helpers for the FHIRPath-like locations problems carry.
enum FHIRPath {
    /// Whether a member name looks like a FHIR element name (`identifier`, `_family`):
    /// only those are echoed in a path, never arbitrary text from the input.
    static func isElementName(_ text: String) -> Bool {
        var count = 0
        for byte in text.utf8 {
            let isLetter = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
            let isDigit = byte >= 0x30 && byte <= 0x39
            guard isLetter || (isDigit && count > 0) else { return false }
            count += 1
            if count > 64 { return false }
        }
        return count > 0
    }
}
