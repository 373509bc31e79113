import Foundation
import KoerierRender

/// Small line charts drawn on the server as SVG: no script, no external file, presentation
/// attributes only (the page's CSP allows no inline style).
enum SVGChart {
    /// One series per `values` entry (nil: no value that minute), oldest first.
    static func line(label: String, series: [(name: String, color: String, values: [Double?])], unit: String) -> String {
        let width = 640.0
        let height = 160.0
        let left = 56.0
        let bottom = 24.0
        let plotWidth = width - left - 8
        let plotHeight = height - bottom - 8
        let top = series.flatMap { $0.values.compactMap { $0 } }.max() ?? 0
        let scale = top > 0 ? niceCeiling(top) : 1
        let count = max(1, (series.map(\.values.count).max() ?? 1) - 1)
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(height))" width="\(Int(width))" \
            height="\(Int(height))" role="img" aria-label="\(HTMLRenderer.escape(label))">
            <rect x="\(left)" y="8" width="\(plotWidth)" height="\(plotHeight)" fill="#fbfbfd" stroke="#c8ccd4"/>
            <text x="\(left - 6)" y="16" text-anchor="end" font-size="11" fill="#444">\(format(scale)) \(HTMLRenderer.escape(unit))</text>
            <text x="\(left - 6)" y="\(8 + plotHeight)" text-anchor="end" font-size="11" fill="#444">0</text>
            <text x="\(left)" y="\(height - 6)" font-size="11" fill="#444">60 min ago</text>
            <text x="\(width - 8)" y="\(height - 6)" text-anchor="end" font-size="11" fill="#444">now</text>

            """
        for entry in series {
            // A gap (a minute without a value) breaks the line into segments.
            var segments: [[String]] = [[]]
            for (minute, value) in entry.values.enumerated() {
                guard let value else {
                    if !(segments.last?.isEmpty ?? true) { segments.append([]) }
                    continue
                }
                let x = left + plotWidth * Double(minute) / Double(count)
                let y = 8 + plotHeight * (1 - min(1, value / scale))
                segments[segments.count - 1].append("\(format(x)),\(format(y))")
            }
            for points in segments where !points.isEmpty {
                if points.count == 1 {
                    let xy = points[0].split(separator: ",")
                    svg += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"2\" fill=\"\(entry.color)\"/>\n"
                } else {
                    svg +=
                        "<polyline fill=\"none\" stroke=\"\(entry.color)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
                }
            }
        }
        svg += SVGPieces.legend(series.map { ($0.color, $0.name) }, x: left + 8, y: 23, spacing: 140, size: 10)
        return svg + "</svg>"
    }

    /// 1, 2 or 5 times a power of ten, at least `value`: a readable top of the axis.
    static func niceCeiling(_ value: Double) -> Double {
        let power = pow(10, floor(log10(value)))
        for step in [1.0, 2, 5, 10] where step * power >= value { return step * power }
        return 10 * power
    }

    static func format(_ value: Double) -> String { SVGPieces.number(value, decimals: 2) }
}
