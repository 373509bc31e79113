/// Bounds on the work one inbound Bundle may cause. Hostile input must be refused early
/// and cheaply: every stage of the reader is linear in the input and stops at these bounds.
public struct FHIRLimits: Sendable, Equatable {
    /// Largest accepted body, checked before anything is parsed.
    public var maxBytes: Int
    /// Deepest nesting of JSON arrays and objects (a document Bundle needs about 10).
    /// The parser recurses once per level, so it also clamps this to `hardMaxDepth`.
    public var maxDepth: Int
    /// Most `Bundle.entry` elements.
    public var maxEntries: Int
    /// Most characters of plain text one section narrative may hold.
    public var maxTextCharacters: Int
    /// Most characters of a short value: a name, an identifier, a title, a code.
    public var maxShortTextCharacters: Int

    /// The parser's own recursion bound, whatever a caller configures.
    static let hardMaxDepth = 256

    public init(
        maxBytes: Int = 2 * 1024 * 1024, maxDepth: Int = 32, maxEntries: Int = 200, maxTextCharacters: Int = 20_000,
        maxShortTextCharacters: Int = 1_000
    ) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxEntries = maxEntries
        self.maxTextCharacters = maxTextCharacters
        self.maxShortTextCharacters = maxShortTextCharacters
    }

    public static let standard = FHIRLimits()
}
