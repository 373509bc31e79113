import Foundation

/// Reads elements of resources and records a problem for each element that is missing,
/// of the wrong JSON type or too long, rather than stopping at the first: the sender gets
/// every defect of a stage in one answer. Problems name the path and use fixed wording.
struct ElementReader {
    let limits: FHIRLimits
    private(set) var problems: [FHIRProblem] = []

    init(limits: FHIRLimits) { self.limits = limits }

    typealias Object = [String: JSONValue]

    mutating func problem(_ path: String, _ rule: String, _ message: String) {
        problems.append(FHIRProblem(path: path, rule: rule, message: message))
    }

    /// A short string element (a name, code, identifier), trimmed. Nil when absent, blank
    /// or invalid; absent or blank counts as a problem only when `required`.
    mutating func string(_ object: Object, _ key: String, at path: String, required: Bool) -> String? {
        shortString(object[key], name: key, at: path + "." + key, required: required)
    }

    /// A string element of any length (a narrative's XHTML: the caller bounds its text).
    mutating func text(_ object: Object, _ key: String, at path: String, required: Bool) -> String? {
        anyString(object[key], name: key, at: path + "." + key, required: required)
    }

    private mutating func shortString(_ value: JSONValue?, name: String, at path: String, required: Bool) -> String? {
        guard let text = anyString(value, name: name, at: path, required: required) else { return nil }
        guard text.unicodeScalars.count <= limits.maxShortTextCharacters else {
            problem(path, "value-too-long", "\(name) is longer than \(limits.maxShortTextCharacters) characters")
            return nil
        }
        return text
    }

    private mutating func anyString(_ value: JSONValue?, name: String, at path: String, required: Bool) -> String? {
        guard let value else {
            if required { problem(path, "required", "\(name) is required") }
            return nil
        }
        guard let text = value.stringValue else {
            problem(path, "value-type", "\(name) must be a string, not \(value.kindName)")
            return nil
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            if required { problem(path, "required", "\(name) must not be empty") }
            return nil
        }
        return trimmed
    }

    mutating func object(_ object: Object, _ key: String, at path: String, required: Bool) -> Object? {
        guard let value = object[key] else {
            if required { problem(path + "." + key, "required", "\(key) is required") }
            return nil
        }
        guard let member = value.objectValue else {
            problem(path + "." + key, "value-type", "\(key) must be an object, not \(value.kindName)")
            return nil
        }
        return member
    }

    /// The objects of an array element with their positions; an absent element is empty.
    mutating func objects(_ object: Object, _ key: String, at path: String) -> [(position: Int, object: Object)] {
        guard let value = object[key] else { return [] }
        guard let elements = value.arrayValue else {
            problem(path + "." + key, "value-type", "\(key) must be an array, not \(value.kindName)")
            return []
        }
        var result: [(position: Int, object: Object)] = []
        for (position, element) in elements.enumerated() {
            if let member = element.objectValue {
                result.append((position, member))
            } else {
                problem(path + ".\(key)[\(position)]", "value-type", "\(key) must hold objects, not \(element.kindName)")
            }
        }
        return result
    }

    /// The non-blank strings of an array-of-strings element (`given`, `prefix`, `line`).
    mutating func strings(_ object: Object, _ key: String, at path: String) -> [String] {
        guard let value = object[key] else { return [] }
        guard let elements = value.arrayValue else {
            problem(path + "." + key, "value-type", "\(key) must be an array, not \(value.kindName)")
            return []
        }
        return elements.enumerated().compactMap { position, element in
            shortString(element, name: key, at: path + ".\(key)[\(position)]", required: false)
        }
    }

    /// The entry a Reference element names, which must be of `type`.
    mutating func reference(
        _ object: Object, _ key: String, at path: String, in index: BundleIndex, type: String, required: Bool
    ) -> BundleEntry? {
        guard let reference = self.object(object, key, at: path, required: required) else { return nil }
        let referencePath = path + "." + key
        guard let target = string(reference, "reference", at: referencePath, required: true) else { return nil }
        switch index.resolve(target, expecting: type) {
        case .found(let entry):
            return entry
        case .unresolved:
            problem(referencePath + ".reference", "reference-unresolved", "the reference names no entry of this Bundle")
        case .wrongType:
            problem(referencePath + ".reference", "reference-type", "the reference must name a \(type)")
        }
        return nil
    }

    /// The values of a resource's identifiers by system. A system outside `allowed` is a
    /// problem (rule `identifier-system`); so is a system given twice.
    mutating func identifiers(
        _ resource: Object, at path: String, allowed: [String], owner: String
    ) -> (values: [String: (value: String, path: String)], foreignSystem: Bool) {
        var values: [String: (value: String, path: String)] = [:]
        var foreignSystem = false
        for (position, identifier) in objects(resource, "identifier", at: path) {
            let identifierPath = path + ".identifier[\(position)]"
            guard let system = string(identifier, "system", at: identifierPath, required: true) else { continue }
            guard allowed.contains(system) else {
                foreignSystem = true
                problem(
                    identifierPath + ".system", "identifier-system",
                    "a \(owner) identifier must use one of these systems: " + allowed.joined(separator: ", "))
                continue
            }
            guard let value = string(identifier, "value", at: identifierPath, required: true) else { continue }
            guard values[system] == nil else {
                problem(identifierPath, "identifier-duplicate", "a \(owner) may carry one identifier of each system")
                continue
            }
            values[system] = (value, identifierPath + ".value")
        }
        return (values, foreignSystem)
    }
}
