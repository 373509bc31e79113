/// The letter text as TXT lines: split at line breaks, put into the character set, then
/// wrapped to the dialect's 70 characters.
enum LetterText {
    static let width = 70

    static func lines(_ text: String, charset: EDIFACTCharset) -> [String] {
        var lines = split(text)
        // The rendered text ends with a line break; it ends the last line, it is not an empty one.
        if lines.count > 1, lines.last?.isEmpty == true { lines.removeLast() }
        return lines.flatMap { wrap(Array(charset.transliterate($0).unicodeScalars)) }
    }

    /// Lines at LF, CR LF, CR and the Unicode line separators (a paragraph may hold any).
    private static func split(_ text: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var afterCarriageReturn = false
        for scalar in text.unicodeScalars {
            defer { afterCarriageReturn = scalar == "\r" }
            if scalar == "\n", afterCarriageReturn { continue }
            if ["\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}"].contains(scalar) {
                lines.append(String(current))
                current = String.UnicodeScalarView()
            } else {
                current.append(scalar)
            }
        }
        lines.append(String(current))
        return lines
    }

    /// Greedy wrapping at the last space that fits; a word longer than a line is cut. The
    /// space at a break stays at the end of its line, so a paragraph's lines joined without a
    /// separator give it back exactly. An empty line stays one empty line.
    static func wrap(_ line: [Unicode.Scalar]) -> [String] {
        var pieces: [String] = []
        var start = 0
        while line.count - start > width {
            let end = start + width
            var cut = end
            if let space = line[start..<end].lastIndex(of: " "), space > start { cut = space + 1 }
            pieces.append(string(line[start..<cut]))
            start = cut
        }
        pieces.append(string(line[start...]))
        return pieces
    }

    private static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
