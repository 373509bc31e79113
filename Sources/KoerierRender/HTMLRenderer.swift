/// A self-contained HTML page. Every value from the message is escaped: letter text is
/// untrusted input and must never become markup or script.
public enum HTMLRenderer {
    public static func escape(_ text: String) -> String {
        // Scalar by scalar: a quote or bracket followed by a combining mark is one Character,
        // and must still be escaped.
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result.append(contentsOf: "&amp;".unicodeScalars)
            case "<": result.append(contentsOf: "&lt;".unicodeScalars)
            case ">": result.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": result.append(contentsOf: "&quot;".unicodeScalars)
            case "'": result.append(contentsOf: "&#39;".unicodeScalars)
            default: result.append(scalar)
            }
        }
        return String(result)
    }

    public static func render(_ document: LetterDocument) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="nl">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
            <title>\(escape(document.title))</title>
            <style>body{font-family:sans-serif;max-width:48em;margin:2em auto;line-height:1.4}th{text-align:left;padding-right:1em;vertical-align:top}p{white-space:pre-wrap}</style>
            </head>
            <body>
            <h1>\(escape(document.title))</h1>

            """
        // Where the layout put them (after the measurements they draw), else closing the letter.
        let charts =
            document.figures.isEmpty
            ? "" : "<section>\n<h2>Grafieken</h2>\n" + document.figures.map(FigureSVG.svg).joined(separator: "\n") + "\n</section>\n"
        let chartsAt = min(document.chartsBefore ?? document.sections.count, document.sections.count)
        for (index, section) in document.sections.enumerated() {
            if index == chartsAt { html += charts }
            html += "<section>\n<h2>\(escape(section.heading))</h2>\n"
            if !section.rows.isEmpty {
                html += "<table>\n"
                for row in section.rows {
                    html += "<tr><th>\(escape(row.label))</th><td>\(escape(row.value))</td></tr>\n"
                }
                html += "</table>\n"
            }
            for paragraph in section.paragraphs {
                html += "<p>\(escape(paragraph))</p>\n"
            }
            html += "</section>\n"
        }
        if chartsAt == document.sections.count { html += charts }
        return html + "</body>\n</html>\n"
    }
}
