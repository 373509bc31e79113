import Crypto
import Foundation
import KoerierModel

/// Identifiers derived from names, so the same input always gives the same id.
public enum FHIRIdentifiers {
    /// The message id of a ZorgDomein Bundle. ZorgDomein retries deliveries with the same
    /// `Bundle.id` and never reuses one, so deriving the id (rather than generating one)
    /// turns a retried delivery into the same message, which the store deduplicates.
    public static func messageID(bundleID: String) -> MessageID {
        MessageID(nameBasedUUID("zorgdomein-bundle|" + bundleID))
    }

    /// A name-based UUID: the first 16 bytes of SHA-256 of the name, with the version (5)
    /// and RFC 4122 variant bits set as for a version-5 UUID. (Version 5 proper uses
    /// SHA-1 and a namespace; SHA-256 keeps to one hash function throughout Koerier.)
    static func nameBasedUUID(_ name: String) -> UUID {
        var bytes = Array(SHA256.hash(data: Data(name.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    /// The lower-case text of a name-based UUID (resource ids; `urn:uuid:` + it is a `fullUrl`).
    static func uuidString(_ name: String) -> String { nameBasedUUID(name).uuidString.lowercased() }
}
