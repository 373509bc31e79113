import Crypto
import Foundation

/// The keys that encrypt payloads at rest (AES-256-GCM). The key file holds one key per
/// line, `KEY-ID BASE64-KEY`; the first line encrypts, every line decrypts, so keys can
/// rotate while old records stay readable. The file must be readable by its owner only.
public struct PayloadKeyRing: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let currentID: String
    /// The oldest key's id: it stays in the ring while any payload it sealed is kept, so
    /// keys derived from it (audit pseudonyms) are stable across rotations.
    public let oldestID: String
    /// Raw key bytes: swift-crypto's SymmetricKey is not Sendable; keys are built on use.
    private let keys: [String: Data]

    public init(keys: [(id: String, key: SymmetricKey)]) throws {
        guard let first = keys.first else { throw Failure(description: "the key ring is empty") }
        for entry in keys where entry.key.bitCount != 256 {
            throw Failure(description: "key '\(entry.id)' is \(entry.key.bitCount) bits; AES-256 needs 256")
        }
        currentID = first.id
        oldestID = keys[keys.count - 1].id
        self.keys = Dictionary(keys.map { ($0.id, $0.key.withUnsafeBytes { Data($0) }) }, uniquingKeysWith: { first, _ in first })
    }

    /// Refuses a key file that group or others may read or write (payload and audit keys).
    static func requireOwnerOnly(_ file: URL, what: String) throws {
        var status = stat()
        guard stat(file.path, &status) == 0 else { throw Failure(description: "\(file.path): cannot read \(what)") }
        let mode = status.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw Failure(
                description: "\(file.path): \(what) has mode \(String(mode, radix: 8)); it must be 600 (owner only): chmod 600 \(file.path)"
            )
        }
    }

    /// Loads a key file; refuses one that group or others may read or write.
    public static func load(file: URL) throws -> PayloadKeyRing {
        let path = file.path
        try requireOwnerOnly(file, what: "the payload key file")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw Failure(description: "\(path): cannot read the payload key file")
        }
        var keys: [(id: String, key: SymmetricKey)] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let parts = trimmed.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, let bytes = Data(base64Encoded: String(parts[1])), bytes.count == 32 else {
                throw Failure(description: "\(path):\(index + 1): expected 'KEY-ID BASE64-KEY' with a 32-byte key")
            }
            keys.append((String(parts[0]), SymmetricKey(data: bytes)))
        }
        return try PayloadKeyRing(keys: keys)
    }

    /// Writes a new key file (mode 600) with one fresh random key.
    public static func createKeyFile(at file: URL, id: String = "k1") throws {
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let text =
            "# Koerier payload keys: first line encrypts, all decrypt. Keep this file mode 600.\n\(id) \(key.base64EncodedString())\n"
        guard FileManager.default.createFile(atPath: file.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw Failure(description: "\(file.path): cannot create the payload key file")
        }
    }

    /// Seals with the current key. The table, the key id and the message id are bound as
    /// associated data, so a payload copied onto another record, into the other table or
    /// under another key id fails to open.
    func seal(_ plaintext: Data, boundTo messageID: String, in table: PayloadTable) throws -> (keyID: String, sealed: Data) {
        guard let key = keys[currentID] else { throw Failure(description: "no current key") }
        let box = try AES.GCM.seal(
            plaintext, using: SymmetricKey(data: key), authenticating: Self.binding(table, currentID, messageID))
        guard let combined = box.combined else { throw Failure(description: "AES-GCM produced no output") }
        return (currentID, combined)
    }

    func open(_ sealed: Data, keyID: String, boundTo messageID: String, in table: PayloadTable) throws -> Data {
        guard let key = keys[keyID] else {
            throw Failure(description: "payload encrypted with key '\(keyID)', which the key file no longer holds")
        }
        let box: AES.GCM.SealedBox
        do { box = try AES.GCM.SealedBox(combined: sealed) } catch {
            throw Failure(description: "payload of \(messageID) does not decrypt: altered, or not this record's")
        }
        if let plaintext = try? AES.GCM.open(box, using: SymmetricKey(data: key), authenticating: Self.binding(table, keyID, messageID)) {
            return plaintext
        }
        // Payloads stored before the binding named table and key: bound to the message id only.
        if let plaintext = try? AES.GCM.open(box, using: SymmetricKey(data: key), authenticating: Data(messageID.utf8)) {
            return plaintext
        }
        throw Failure(description: "payload of \(messageID) does not decrypt: altered, or not this record's")
    }

    static func binding(_ table: PayloadTable, _ keyID: String, _ messageID: String) -> Data {
        Data("koerier-payload-v2\u{1F}\(table.rawValue)\u{1F}\(keyID)\u{1F}\(messageID)".utf8)
    }

    /// A key for another purpose, derived (HKDF-SHA256) from the oldest key.
    func derivedKey(purpose: String) -> Data {
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: keys[oldestID] ?? Data()),
            info: Data(purpose.utf8), outputByteCount: 32)
        return derived.withUnsafeBytes { Data($0) }
    }
}

/// The store table a payload belongs to (part of its encryption's associated data).
enum PayloadTable: String {
    case outbox, inbox
}
