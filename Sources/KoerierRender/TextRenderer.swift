/// Plain text, as it would be read in a terminal or pasted into a record.
public enum TextRenderer {
    public static func render(_ document: LetterDocument) -> String {
        var lines = [document.title, String(repeating: "=", count: document.title.count)]
        for section in document.sections {
            lines.append("")
            lines.append(section.heading)
            lines.append(String(repeating: "-", count: section.heading.count))
            let width = section.rows.map(\.label.count).max() ?? 0
            for row in section.rows {
                let padding = String(repeating: " ", count: width - row.label.count)
                lines.append("\(row.label):\(padding) \(row.value)")
            }
            lines.append(contentsOf: section.paragraphs)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
