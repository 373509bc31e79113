import Foundation
import Yams

/// Reads one YAML mapping strictly: every key must be known (a typo in a security
/// setting must not silently fall back to a default), every value of the right type,
/// and each error names the file and line.
public struct YAMLFields {
    public let file: String
    public let path: String
    /// The line of the mapping itself (for errors about a missing key).
    public let line: Int?
    private let entries: [(key: String, line: Int?, value: Node)]

    public init(_ node: Node, file: String, path: String) throws {
        guard case .mapping(let mapping) = node else {
            throw ConfigError(
                file: file, line: node.mark?.line, message: "\(path.isEmpty ? "the file" : path) must be a mapping of keys to values")
        }
        self.file = file
        self.path = path
        line = node.mark?.line
        entries = mapping.map { (key: $0.key.string ?? "", line: $0.key.mark?.line, value: $0.value) }
    }

    private func qualified(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    public func rejectUnknown(allowed: Set<String>) throws {
        for entry in entries where !allowed.contains(entry.key) {
            throw ConfigError(
                file: file, line: entry.line,
                message: "unknown key '\(qualified(entry.key))'; known keys: \(allowed.sorted().joined(separator: ", "))")
        }
    }

    private func entry(_ key: String) -> (key: String, line: Int?, value: Node)? { entries.first { $0.key == key } }

    public func string(_ key: String) throws -> String? {
        guard let entry = entry(key) else { return nil }
        guard case .scalar(let scalar) = entry.value, !scalar.string.isEmpty else {
            throw ConfigError(file: file, line: entry.line, message: "'\(qualified(key))' must be a non-empty text value")
        }
        return scalar.string
    }

    public func integer(_ key: String, range: ClosedRange<Int>) throws -> Int? {
        guard let entry = entry(key) else { return nil }
        guard case .scalar(let scalar) = entry.value, let value = Int(scalar.string), range.contains(value) else {
            throw ConfigError(
                file: file, line: entry.line,
                message: "'\(qualified(key))' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let entry = entry(key) else { return nil }
        guard case .scalar(let scalar) = entry.value, ["true", "false"].contains(scalar.string) else {
            throw ConfigError(file: file, line: entry.line, message: "'\(qualified(key))' must be true or false")
        }
        return scalar.string == "true"
    }

    public func requiredString(_ key: String) throws -> String {
        guard let value = try string(key) else { throw ConfigError(file: file, line: line, message: "'\(qualified(key))' is missing") }
        return value
    }

    /// The line of `key`, or of this mapping when the key is absent.
    public func line(of key: String) -> Int? { entry(key)?.line ?? line }

    /// A list of mappings, each read strictly.
    public func list(_ key: String) throws -> [YAMLFields]? {
        guard let entry = entry(key) else { return nil }
        guard case .sequence(let sequence) = entry.value else {
            throw ConfigError(file: file, line: entry.line, message: "'\(qualified(key))' must be a list")
        }
        return try sequence.enumerated().map { index, node in try YAMLFields(node, file: file, path: "\(qualified(key))[\(index)]") }
    }

    public func section(_ key: String) throws -> YAMLFields? {
        guard let entry = entry(key) else { return nil }
        return try YAMLFields(entry.value, file: file, path: qualified(key))
    }
}
