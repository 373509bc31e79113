import Foundation
import KoerierModel

/// The letter's charts as inline SVG: drawn here, no script, presentation attributes only.
enum FigureSVG {
    static func svg(_ figure: Figure) -> String {
        switch figure {
        case .spinnenweb(let current, let currentLabel, let baseline, let baselineLabel):
            return spinnenweb(current: current, currentLabel: currentLabel, baseline: baseline, baselineLabel: baselineLabel)
        case .course(let points): return course(points)
        }
    }

    static let dimensions = [
        "Lichaamsfuncties", "Mentaal welbevinden", "Zingeving", "Kwaliteit van leven", "Meedoen", "Dagelijks functioneren",
    ]

    static func scores(_ health: PositiveHealth) -> [Int] {
        [
            health.lichaamsfuncties, health.mentaalWelbevinden, health.zingeving, health.kwaliteitVanLeven, health.meedoen,
            health.dagelijksFunctioneren,
        ]
    }

    /// Six axes from the centre (0) to the rim (10), the first pointing up, clockwise.
    static func spinnenweb(current: PositiveHealth, currentLabel: String, baseline: PositiveHealth?, baselineLabel: String?) -> String {
        // Wider than high: the side axes' labels need the room.
        let width = 600.0
        let height = 420.0
        let centreX = width / 2
        let centreY = height / 2 - 6
        let radius = 140.0
        func point(_ axis: Int, _ value: Double) -> (Double, Double) {
            let angle = (-90 + Double(axis) * 60) * .pi / 180
            return (centreX + cos(angle) * radius * value / 10, centreY + sin(angle) * radius * value / 10)
        }
        func polygon(_ values: [Int]) -> String {
            values.enumerated().map { axis, value in
                let (x, y) = point(axis, Double(value))
                return "\(format(x)),\(format(y))"
            }.joined(separator: " ")
        }
        let title = "Spinnenweb Positieve Gezondheid: \(currentLabel)" + (baselineLabel.map { " over \($0)" } ?? "")
        var svg = """
            <figure><figcaption>\(HTMLRenderer.escape(title))</figcaption>
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(height))" width="\(Int(width))" height="\(Int(height))" \
            role="img" aria-label="\(HTMLRenderer.escape(title))">

            """
        for ring in stride(from: 2, through: 10, by: 2) {
            svg += "<polygon points=\"\(polygon(Array(repeating: ring, count: 6)))\" fill=\"none\" stroke=\"#d5d9e0\"/>\n"
        }
        for (axis, name) in dimensions.enumerated() {
            let (x, y) = point(axis, 10)
            let (labelX, labelY) = point(axis, 11.6)
            let anchor = abs(labelX - centreX) < 1 ? "middle" : (labelX > centreX ? "start" : "end")
            svg +=
                "<line x1=\"\(format(centreX))\" y1=\"\(format(centreY))\" x2=\"\(format(x))\" y2=\"\(format(y))\" stroke=\"#d5d9e0\"/>\n"
            svg +=
                "<text x=\"\(format(labelX))\" y=\"\(format(labelY + 4))\" text-anchor=\"\(anchor)\" font-size=\"12\" fill=\"#333\">\(name)</text>\n"
        }
        if let baseline {
            svg +=
                "<polygon points=\"\(polygon(scores(baseline)))\" fill=\"#9aa3b2\" fill-opacity=\"0.25\" stroke=\"#6b7485\" "
                + "stroke-width=\"2\" stroke-dasharray=\"5 4\"/>\n"
        }
        svg +=
            "<polygon points=\"\(polygon(scores(current)))\" fill=\"#2a7d4f\" fill-opacity=\"0.3\" stroke=\"#2a7d4f\" stroke-width=\"2.5\"/>\n"
        for (axis, value) in scores(current).enumerated() {
            let (x, y) = point(axis, Double(value))
            svg += "<circle cx=\"\(format(x))\" cy=\"\(format(y))\" r=\"3.5\" fill=\"#2a7d4f\"/>\n"
        }
        svg += legend([("#2a7d4f", currentLabel)] + (baselineLabel.map { [("#6b7485", $0)] } ?? []), x: 12, y: height - 8)
        return svg + "</svg></figure>"
    }

    /// 4DKL distress (0–32) and PHQ-9 (0–27) per phase, each on its own scale to its maximum.
    static func course(_ points: [CoursePoint]) -> String {
        let width = 480.0
        let height = 220.0
        let left = 40.0
        let right = 20.0
        let top = 20.0
        let bottom = 50.0
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        func x(_ index: Int) -> Double { left + (points.count > 1 ? plotWidth * Double(index) / Double(points.count - 1) : plotWidth / 2) }
        func y(_ value: Int, of maximum: Int) -> Double { top + plotHeight * (1 - Double(value) / Double(maximum)) }
        let title = "Verloop 4DKL-distress en PHQ-9 per fase"
        var svg = """
            <figure><figcaption>\(title)</figcaption>
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(height))" width="\(Int(width))" height="\(Int(height))" \
            role="img" aria-label="\(title)">
            <rect x="\(left)" y="\(top)" width="\(plotWidth)" height="\(plotHeight)" fill="#fbfbfd" stroke="#c8ccd4"/>
            <text x="\(format(left - 6))" y="\(format(top + 4))" text-anchor="end" font-size="11" fill="#444">max</text>
            <text x="\(format(left - 6))" y="\(format(top + plotHeight))" text-anchor="end" font-size="11" fill="#444">0</text>

            """
        for (index, point) in points.enumerated() {
            svg +=
                "<text x=\"\(format(x(index)))\" y=\"\(format(top + plotHeight + 16))\" text-anchor=\"middle\" font-size=\"11\" "
                + "fill=\"#333\">\(HTMLRenderer.escape(point.label))</text>\n"
        }
        for (color, maximum, values) in [
            ("#c0392b", 32, points.map(\.fourDKLDistress)), ("#1f5fa8", 27, points.map(\.phq9)),
        ] {
            let coordinates = values.enumerated().compactMap { index, value in value.map { (x(index), y($0, of: maximum), $0) } }
            if coordinates.count > 1 {
                svg +=
                    "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2.5\" points=\""
                    + coordinates.map { "\(format($0.0)),\(format($0.1))" }.joined(separator: " ") + "\"/>\n"
            }
            for (px, py, value) in coordinates {
                svg += "<circle cx=\"\(format(px))\" cy=\"\(format(py))\" r=\"3.5\" fill=\"\(color)\"/>"
                svg += "<text x=\"\(format(px + 6))\" y=\"\(format(py - 6))\" font-size=\"11\" fill=\"\(color)\">\(value)</text>\n"
            }
        }
        svg += legend([("#c0392b", "4DKL-distress (0–32)"), ("#1f5fa8", "PHQ-9 (0–27)")], x: left, y: height - 10)
        return svg + "</svg></figure>"
    }

    static func legend(_ entries: [(color: String, label: String)], x: Double, y: Double) -> String {
        SVGPieces.legend(entries, x: x, y: y, spacing: 190, size: 12)
    }

    static func format(_ value: Double) -> String { SVGPieces.number(value) }
}
