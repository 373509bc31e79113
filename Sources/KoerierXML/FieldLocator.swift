import CXMLSec

/// Finds the line of a rule's field (`Goals/Goal[2]/TargetDate`, `Period/End`,
/// `Programme/Block[1]/@sequence`) in the document it came from. When the field itself
/// is absent (an element that should have been there), the deepest existing ancestor's
/// line is the right place to point at.
enum FieldLocator {
    static func line(of field: String, in document: XMLDocument) -> Int {
        guard var node = document.rootElement else { return 1 }
        for segment in field.split(separator: "/") where !segment.hasPrefix("@") {
            var name = Substring(segment)
            var index = 1
            if let open = segment.firstIndex(of: "["), segment.hasSuffix("]"),
                let number = Int(segment[segment.index(after: open)..<segment.index(before: segment.endIndex)])
            {
                name = segment[..<open]
                index = number
            }
            let matches = node.elementChildren.filter { $0.localName == name }
            guard index >= 1, index <= matches.count else { break }
            node = matches[index - 1]
        }
        return max(1, node.lineNumber)
    }
}
