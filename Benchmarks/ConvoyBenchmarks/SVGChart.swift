import Foundation

/// Draws a scenario's timelines as an SVG: one panel per strategy, requests per second over time.
/// Green: answered 2xx; red: 429s; blue dashes: Convoy's pace; grey: the server's allowed rate.
enum SVGChart {
    static func render(scenario: Scenario, rows: [(Strategy, [Timeline.Bucket])]) -> String {
        let width = 960.0
        let panel = 150.0
        let left = 60.0
        let plotWidth = width - left - 20
        let seconds = max(1, rows.map { Double($0.1.count) * Timeline.bucket }.max() ?? 1)
        let perSecond = { (count: Int) in Double(count) / Timeline.bucket }
        let peak = rows.flatMap { row in row.1.map { max(perSecond($0.sent), perSecond($0.throttled)) } }.max() ?? 1
        let yMax = max(peak, scenario.allowedRate.isFinite ? scenario.allowedRate * 1.5 : 0, 1)
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(panel * Double(rows.count) + 50))" \
            font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="18" font-size="14" font-weight="bold">\(escape(scenario.name)): \(escape(scenario.summary))</text>
            <text x="\(left)" y="34" fill="#555">requests per second (100 ms buckets) — green 2xx, red 429, blue dashed Convoy's pace, grey the allowed rate</text>

            """
        for (index, row) in rows.enumerated() {
            let top = 45 + Double(index) * panel
            let height = panel - 30
            func x(_ i: Int) -> Double { left + plotWidth * Double(i) * Timeline.bucket / seconds }
            func y(_ value: Double) -> Double { top + height - height * min(value, yMax) / yMax }
            svg += "<text x=\"\(left)\" y=\"\(top + 10)\" font-weight=\"bold\">\(row.0.rawValue)</text>\n"
            svg +=
                "<line x1=\"\(left)\" y1=\"\(top + height)\" x2=\"\(left + plotWidth)\" y2=\"\(top + height)\" stroke=\"#999\"/>\n"
            svg += "<text x=\"\(left - 6)\" y=\"\(y(yMax) + 10)\" text-anchor=\"end\">\(Int(yMax))</text>\n"
            svg += "<text x=\"\(left - 6)\" y=\"\(top + height)\" text-anchor=\"end\">0</text>\n"
            svg +=
                "<text x=\"\(left + plotWidth)\" y=\"\(top + height + 14)\" text-anchor=\"end\">\(String(format: "%.0f", seconds)) s</text>\n"
            if scenario.allowedRate.isFinite {
                // The allowed rate, stepping down where the scenario changes the limit.
                var steps = [(from: 0.0, to: seconds, rate: scenario.allowedRate)]
                if case .fixedWindow(let limit, let window)? = scenario.limitChange {
                    let change = Double(scenario.ids) / scenario.allowedRate / 2
                    steps = [(0, change, scenario.allowedRate), (change, seconds, Double(limit) / window.seconds)]
                }
                for step in steps {
                    let x1 = left + plotWidth * step.from / seconds
                    let x2 = left + plotWidth * min(step.to, seconds) / seconds
                    svg += "<line x1=\"\(x1)\" y1=\"\(y(step.rate))\" x2=\"\(x2)\" y2=\"\(y(step.rate))\" "
                    svg += "stroke=\"#bbb\" stroke-width=\"2\"/>\n"
                }
            }
            svg += polyline(row.1.indices.map { (x($0), y(perSecond(row.1[$0].ok))) }, color: "#2a9d3a")
            svg += polyline(row.1.indices.map { (x($0), y(perSecond(row.1[$0].throttled))) }, color: "#d62828")
            let budget = row.1.indices.compactMap { i in row.1[i].budget.map { (x(i), y($0)) } }
            if !budget.isEmpty { svg += polyline(budget, color: "#1d4ed8", dashed: true) }
        }
        return svg + "</svg>\n"
    }

    private static func polyline(_ points: [(Double, Double)], color: String, dashed: Bool = false) -> String {
        let path = points.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ")
        let dash = dashed ? " stroke-dasharray=\"4 3\"" : ""
        return "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.2\"\(dash)/>\n"
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}
