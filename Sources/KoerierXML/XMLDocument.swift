import CXMLSec

/// A parsed libxml2 document; frees it when released. Used by one thread at a time.
public final class XMLDocument: @unchecked Sendable {
    package let pointer: xmlDocPtr

    package init(_ pointer: xmlDocPtr) { self.pointer = pointer }
    deinit { xmlFreeDoc(pointer) }

    package var rootElement: xmlNodePtr? { xmlDocGetRootElement(pointer) }
}

extension UnsafeMutablePointer where Pointee == xmlNode {
    package var isElement: Bool { pointee.type == XML_ELEMENT_NODE }
    package var localName: String { LibXML.string(pointee.name) ?? "" }
    package var namespaceURI: String? { pointee.ns.flatMap { LibXML.string($0.pointee.href) } }
    package var lineNumber: Int { Int(xmlGetLineNo(self)) }

    /// Whether this element is `local` in `namespace`, compared on libxml2's own bytes
    /// (no Swift strings made: hot in signature checks, which look at every element).
    package func isNamed(_ local: String, in namespace: String) -> Bool {
        guard let ns = pointee.ns else { return false }
        return local.withCString { name in
            namespace.withCString { uri in
                xmlStrEqual(pointee.name, UnsafeRawPointer(name).assumingMemoryBound(to: xmlChar.self)) == 1
                    && xmlStrEqual(ns.pointee.href, UnsafeRawPointer(uri).assumingMemoryBound(to: xmlChar.self)) == 1
            }
        }
    }

    package var elementChildren: [xmlNodePtr] {
        var result: [xmlNodePtr] = []
        var child = pointee.children
        while let node = child {
            if node.isElement { result.append(node) }
            child = node.pointee.next
        }
        return result
    }

    /// The element path below the root, as the rules name fields: `Goals/Goal[2]/Status`.
    package var fieldPath: String {
        var parts: [String] = []
        var current: xmlNodePtr? = self
        while let node = current, node.isElement, let parent = node.pointee.parent, parent.pointee.type == XML_ELEMENT_NODE {
            let name = node.localName
            let siblings = parent.elementChildren.filter { $0.localName == name }
            if siblings.count > 1, let index = siblings.firstIndex(of: node) {
                parts.append("\(name)[\(index + 1)]")
            } else {
                parts.append(name)
            }
            current = parent
        }
        return parts.reversed().joined(separator: "/")
    }
}
