import Foundation

/// What every chart Koerier draws shares (the letters' figures, the status page's charts):
/// numbers as SVG writes them, and a legend.
public enum SVGPieces {
    /// A coordinate or value: a whole number without decimals, else `decimals` of them.
    public static func number(_ value: Double, decimals: Int = 1) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.\(decimals)f", value)
    }

    /// Coloured squares of `size` with their labels, `spacing` apart from `x`, on baseline `y`.
    public static func legend(_ entries: [(color: String, label: String)], x: Double, y: Double, spacing: Double, size: Double) -> String {
        entries.enumerated().map { index, entry in
            let left = x + Double(index) * spacing
            return "<rect x=\"\(number(left))\" y=\"\(number(y - size + 1))\" width=\"\(number(size))\" height=\"\(number(size))\" "
                + "fill=\"\(entry.color)\"/><text x=\"\(number(left + size + 4))\" y=\"\(number(y))\" font-size=\"\(number(size))\" "
                + "fill=\"#222\">\(HTMLRenderer.escape(entry.label))</text>"
        }.joined(separator: "\n") + "\n"
    }
}
