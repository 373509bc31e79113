import Foundation
import KoerierModel

/// FHIR `dateTime` / `instant` text and the model's `Timestamp`.
enum FHIRDateTime {
    enum Failure: Error {
        /// A date, or a time without a zone: the moment is not fixed.
        case noZone
        case format
    }

    /// A FHIR dateTime with a time and a zone. FHIR allows any number of fraction digits;
    /// the model keeps milliseconds, so further digits are dropped (not rounded).
    static func timestamp(_ text: String) -> Result<Timestamp, Failure> {
        let bytes = Array(text.utf8)
        guard bytes.count > 10, bytes[10] == UInt8(ascii: "T") else {
            // FHIR's partial dates (YYYY, YYYY-MM, YYYY-MM-DD) fix no moment.
            return .failure(bytes.count <= 10 ? .noZone : .format)
        }
        let hasZone =
            bytes.last == UInt8(ascii: "Z")
            || (bytes.count - 6 > 10 && [UInt8(ascii: "+"), UInt8(ascii: "-")].contains(bytes[bytes.count - 6])
                && bytes[bytes.count - 3] == UInt8(ascii: ":"))
        guard hasZone else { return .failure(.noZone) }
        var normalised = bytes
        if bytes.count > 20, bytes[19] == UInt8(ascii: ".") {
            var end = 20
            while end < bytes.count, bytes[end] >= 0x30, bytes[end] <= 0x39 { end += 1 }
            if end - 20 > 3 { normalised = Array(bytes[0..<23]) + Array(bytes[end...]) }
        }
        guard let timestamp = try? Timestamp(parsing: String(decoding: normalised, as: UTF8.self)) else {
            return .failure(.format)
        }
        return .success(timestamp)
    }

    /// An `instant` in UTC, milliseconds only when there are any.
    static func instant(_ date: Date) -> String { Timestamp(instant: date, timeZone: .gmt).description }
}
