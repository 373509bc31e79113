/// One segment as read or to be written: the tag, the counter the Dutch dialect writes on
/// the tag itself (`TXT:3`), and the data elements as lists of unescaped components.
public struct EDIFACTSegment: Sendable, Equatable {
    public let tag: String
    /// The line counter of `TXT:n`; nil when the tag has none.
    public let counter: Int?
    /// Elements after the tag; each is its components, release characters removed.
    public let elements: [[String]]

    public init(tag: String, counter: Int? = nil, elements: [[String]]) {
        self.tag = tag
        self.counter = counter
        self.elements = elements
    }

    /// A component, or nil when the segment does not have it.
    public func component(_ element: Int, _ component: Int = 0) -> String? {
        guard element >= 0, element < elements.count, component >= 0, component < elements[element].count else { return nil }
        return elements[element][component]
    }
}
