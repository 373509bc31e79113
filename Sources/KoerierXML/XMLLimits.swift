/// Bounds on what the parser accepts, before and during parsing. With these the work per
/// byte stays linear (see `MarkupScan`); intake and the drop folder share them.
public struct XMLLimits: Sendable, Equatable {
    /// Largest message accepted, in bytes (checked before parsing).
    public var maxMessageBytes: Int
    /// Deepest element nesting accepted; the schemas need about 8.
    public var maxDepth: Int
    /// Attributes on one element, namespace declarations included; a signed message needs 4.
    public var maxAttributesPerElement: Int
    /// Attributes in the whole message.
    public var maxTotalAttributes: Int
    /// One text, CDATA section or attribute value: room for the largest attachment the
    /// schema allows (5 MiB decoded, about 6.7 MiB of base64).
    public var maxTextBytes: Int
    /// One element or attribute name, prefix included.
    public var maxNameBytes: Int

    public init(
        maxMessageBytes: Int = 4 * 1024 * 1024, maxDepth: Int = 48, maxAttributesPerElement: Int = 32, maxTotalAttributes: Int = 4096,
        maxTextBytes: Int = 7 * 1024 * 1024, maxNameBytes: Int = 256
    ) {
        self.maxMessageBytes = maxMessageBytes
        self.maxDepth = maxDepth
        self.maxAttributesPerElement = maxAttributesPerElement
        self.maxTotalAttributes = maxTotalAttributes
        self.maxTextBytes = maxTextBytes
        self.maxNameBytes = maxNameBytes
    }

    public static let standard = XMLLimits()
}
