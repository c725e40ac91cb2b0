import Foundation

/// Draws request timelines as an SVG: one panel per series, requests per second over time.
/// Green: answered 2xx/3xx; red: 429s; grey: requests sent; blue dashes: a client's pace; light
/// grey steps: the rate the server allows. Used by `convoy loadtest --chart` and the benchmarks.
public enum TimelineChart {
    /// One bucket of a series, in requests per second.
    public struct Point: Sendable {
        public var sent: Double
        public var ok: Double
        public var throttled: Double
        /// A client's pace at the end of the bucket, when it has one.
        public var pace: Double?

        public init(sent: Double, ok: Double, throttled: Double, pace: Double? = nil) {
            self.sent = sent
            self.ok = ok
            self.throttled = throttled
            self.pace = pace
        }
    }

    /// One panel: a name and its buckets, `bucketSeconds` apart.
    public struct Series: Sendable {
        public var name: String
        public var points: [Point]

        public init(name: String, points: [Point]) {
            self.name = name
            self.points = points
        }
    }

    /// A stretch of time over which the server allows `rate` requests per second.
    public struct Allowed: Sendable {
        public var from: Double
        public var to: Double
        public var rate: Double

        public init(from: Double, to: Double, rate: Double) {
            self.from = from
            self.to = to
            self.rate = rate
        }
    }

    public static func render(
        title: String, subtitle: String, series: [Series], bucketSeconds: Double, allowed: [Allowed] = [],
        showSent: Bool = false
    ) -> String {
        let width = 960.0
        let panel = 150.0
        let left = 60.0
        let plotWidth = width - left - 20
        let seconds = max(1, series.map { Double($0.points.count) * bucketSeconds }.max() ?? 1)
        let peak = series.flatMap { $0.points.map { max($0.sent, $0.throttled, $0.ok) } }.max() ?? 1
        let yMax = max(peak, (allowed.map(\.rate).max() ?? 0) * 1.5, 1)
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(panel * Double(series.count) + 50))" \
            font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="18" font-size="14" font-weight="bold">\(escape(title))</text>
            <text x="\(left)" y="34" fill="#555">\(escape(subtitle))</text>

            """
        for (index, row) in series.enumerated() {
            let top = 45 + Double(index) * panel
            let height = panel - 30
            func x(_ i: Int) -> Double { left + plotWidth * Double(i) * bucketSeconds / seconds }
            func y(_ value: Double) -> Double { top + height - height * min(value, yMax) / yMax }
            svg += "<text x=\"\(left)\" y=\"\(top + 10)\" font-weight=\"bold\">\(escape(row.name))</text>\n"
            svg +=
                "<line x1=\"\(left)\" y1=\"\(top + height)\" x2=\"\(left + plotWidth)\" y2=\"\(top + height)\" stroke=\"#999\"/>\n"
            svg += "<text x=\"\(left - 6)\" y=\"\(y(yMax) + 10)\" text-anchor=\"end\">\(Int(yMax))</text>\n"
            svg += "<text x=\"\(left - 6)\" y=\"\(top + height)\" text-anchor=\"end\">0</text>\n"
            svg +=
                "<text x=\"\(left + plotWidth)\" y=\"\(top + height + 14)\" text-anchor=\"end\">\(String(format: "%.0f", seconds)) s</text>\n"
            for step in allowed {
                let x1 = left + plotWidth * step.from / seconds
                let x2 = left + plotWidth * min(step.to, seconds) / seconds
                svg += "<line x1=\"\(x1)\" y1=\"\(y(step.rate))\" x2=\"\(x2)\" y2=\"\(y(step.rate))\" "
                svg += "stroke=\"#bbb\" stroke-width=\"2\"/>\n"
            }
            if showSent { svg += polyline(row.points.indices.map { (x($0), y(row.points[$0].sent)) }, color: "#888") }
            svg += polyline(row.points.indices.map { (x($0), y(row.points[$0].ok)) }, color: "#2a9d3a")
            svg += polyline(row.points.indices.map { (x($0), y(row.points[$0].throttled)) }, color: "#d62828")
            let pace = row.points.indices.compactMap { i in row.points[i].pace.map { (x(i), y($0)) } }
            if !pace.isEmpty { svg += polyline(pace, color: "#1d4ed8", dashed: true) }
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
