/// Bounds on what the parser accepts, before and during parsing.
public struct XMLLimits: Sendable, Equatable {
    /// Largest message accepted, in bytes (checked before parsing).
    public var maxMessageBytes: Int
    /// Deepest element nesting accepted; the schemas need about 8.
    public var maxDepth: Int

    public init(maxMessageBytes: Int = 16 * 1024 * 1024, maxDepth: Int = 48) {
        self.maxMessageBytes = maxMessageBytes
        self.maxDepth = maxDepth
    }

    public static let standard = XMLLimits()
}
