import Crypto
import Foundation

/// The key of the audit log's HMAC chain, kept in its own file outside the database
/// (mode 600): whoever can rewrite the database but not read this file cannot recompute
/// the chain. It is not a payload key, so payload-key rotation leaves it alone.
public struct AuditKey: Sendable {
    private let bytes: Data

    init(bytes: Data) { self.bytes = bytes }

    /// For stores opened without a key file (tests, benches): derived from the payload keys'
    /// oldest key, which is kept outside the database too.
    static func derived(from keys: PayloadKeyRing) -> AuditKey {
        AuditKey(bytes: keys.derivedKey(purpose: "koerier audit chain v1"))
    }

    /// Loads the key file; refuses one that group or others may read or write.
    public static func load(file: URL) throws -> AuditKey {
        try PayloadKeyRing.requireOwnerOnly(file, what: "the audit key file")
        guard let text = try? String(contentsOf: file, encoding: .utf8),
            let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32
        else {
            throw PayloadKeyRing.Failure(description: "\(file.path): not an audit key file (one line: 32 bytes in base64)")
        }
        return AuditKey(bytes: bytes)
    }

    /// Writes a new random key, owner-only; refuses to replace an existing file.
    public static func createKeyFile(at file: URL) throws {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        try FileManager.default.createDirectory(
            at: file.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard !FileManager.default.fileExists(atPath: file.path),
            FileManager.default.createFile(
                atPath: file.path, contents: Data((bytes.base64EncodedString() + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw PayloadKeyRing.Failure(description: "\(file.path): cannot create the audit key file (does it exist already?)")
        }
    }

    /// A key for another purpose (HKDF-SHA256), e.g. the audit log's client pseudonyms.
    func derived(purpose: String) -> Data {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: bytes), info: Data(purpose.utf8), outputByteCount: 32)
            .withUnsafeBytes { Data($0) }
    }

    /// HMAC-SHA256 of an entry's fields, lower-case hex.
    func mac(_ fields: String) -> String {
        hex(HMAC<SHA256>.authenticationCode(for: Data(fields.utf8), using: SymmetricKey(data: bytes)))
    }
}
