/// One `Bundle.entry` holding a resource with a `resourceType`.
struct BundleEntry {
    let position: Int
    let fullUrl: String?
    let resource: [String: JSONValue]
    let resourceType: String

    var path: String { "Bundle.entry[\(position)].resource" }
}

/// The shape of a document Bundle, checked once: Bundle, `type` document, a valid `id`,
/// at most `maxEntries` entries, each a resource, distinct `fullUrl`s, the Composition
/// first. Then references between entries resolve through it.
struct BundleIndex {
    let id: String
    let entries: [BundleEntry]
    private let byFullUrl: [String: Int]

    /// The Composition (the initializer guarantees it is entry 0).
    var composition: BundleEntry { entries[0] }

    init(_ root: JSONValue, limits: FHIRLimits) throws(FHIRProblems) {
        guard let bundle = root.objectValue, bundle["resourceType"] == .string("Bundle") else {
            throw FHIRProblems(path: "Bundle.resourceType", rule: "resource-type", message: "the body must be a FHIR Bundle")
        }
        var problems: [FHIRProblem] = []
        func problem(_ path: String, _ rule: String, _ message: String) {
            problems.append(FHIRProblem(path: path, rule: rule, message: message))
        }
        if bundle["type"] != .string("document") {
            problem("Bundle.type", "bundle-type", "the Bundle type must be 'document'")
        }
        let id = bundle["id"]?.stringValue ?? ""
        if bundle["id"] == nil {
            problem("Bundle.id", "required", "the Bundle must carry an id (ZorgDomein never reuses one)")
        } else if !BundleIndex.isFHIRId(id) {
            problem("Bundle.id", "bundle-id", "the Bundle id must be 1-64 characters of A-Z, a-z, 0-9, '-' and '.'")
        }
        guard let rawEntries = bundle["entry"]?.arrayValue, !rawEntries.isEmpty else {
            problem("Bundle.entry", "composition-first", "a document Bundle must start with its Composition")
            throw FHIRProblems(problems)
        }
        guard rawEntries.count <= limits.maxEntries else {
            throw FHIRProblems(
                path: "Bundle.entry", rule: "entry-limit",
                message: "the Bundle has \(rawEntries.count) entries; the limit is \(limits.maxEntries)")
        }
        var entries: [BundleEntry] = []
        var byFullUrl: [String: Int] = [:]
        for (position, raw) in rawEntries.enumerated() {
            let path = "Bundle.entry[\(position)]"
            guard let entry = raw.objectValue, let resource = entry["resource"]?.objectValue,
                let type = resource["resourceType"]?.stringValue
            else {
                problem(path + ".resource", "resource-type", "each entry must hold a resource with a resourceType")
                continue
            }
            var fullUrl: String?
            if let value = entry["fullUrl"] {
                if let text = value.stringValue, !text.isEmpty {
                    fullUrl = text
                    if byFullUrl.updateValue(entries.count, forKey: text) != nil {
                        problem(path + ".fullUrl", "duplicate-fullurl", "two entries have the same fullUrl")
                    }
                } else {
                    problem(path + ".fullUrl", "value-type", "fullUrl must be a non-empty string")
                }
            }
            entries.append(BundleEntry(position: position, fullUrl: fullUrl, resource: resource, resourceType: type))
        }
        if entries.first?.position != 0 || entries.first?.resourceType != "Composition" {
            problem("Bundle.entry[0].resource", "composition-first", "the first entry of a document Bundle must be its Composition")
        }
        guard problems.isEmpty else { throw FHIRProblems(problems) }
        self.id = id
        self.entries = entries
        self.byFullUrl = byFullUrl
    }

    enum Resolution {
        case found(BundleEntry)
        case unresolved
        case wrongType
    }

    /// The entry a reference names: by `fullUrl` (`urn:uuid:…`), else a relative
    /// `Type/id` by the resource's type and id. Nothing outside the Bundle is fetched.
    func resolve(_ reference: String, expecting type: String) -> Resolution {
        var found: BundleEntry?
        if let position = byFullUrl[reference] {
            found = entries[position]
        } else {
            let parts = reference.split(separator: "/", omittingEmptySubsequences: false)
            if parts.count == 2, BundleIndex.isFHIRId(String(parts[1])) {
                found = entries.first {
                    $0.resourceType == parts[0] && $0.resource["id"]?.stringValue == String(parts[1])
                }
            }
        }
        guard let found else { return .unresolved }
        return found.resourceType == type ? .found(found) : .wrongType
    }

    func first(ofType type: String) -> BundleEntry? { entries.first { $0.resourceType == type } }

    /// FHIR's `id` type: `[A-Za-z0-9\-\.]{1,64}`.
    static func isFHIRId(_ text: String) -> Bool {
        let bytes = text.utf8
        return (1...64).contains(bytes.count)
            && bytes.allSatisfy {
                ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x2E
            }
    }
}
