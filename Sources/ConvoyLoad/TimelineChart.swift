import Foundation

/// Draws request timelines as an SVG: one panel per series, requests per second over time, and
/// optionally a latency panel (p50 and p99 per bucket, in milliseconds). Used by
/// `convoy loadtest --chart` and the benchmarks.
///
/// What it promises, and `TimelineChartTests` checks: a legend with a swatch per series drawn;
/// at least four labelled ticks per axis, each label centred on its grid line, with the unit in
/// the axis title (requests/s, ms; the time axis in seconds); every text outside the plot areas
/// (panel names above them), so no label covers data. Series differ in colour (Okabe–Ito, safe
/// for the common colour blindnesses) and in dash pattern, so that 2xx and 429 lines that
/// coincide still read as two: the 429 dashes are drawn over the 2xx line.
public enum TimelineChart {
    /// One bucket of a series, in requests per second, drawn at the middle of its bucket.
    public struct Point: Sendable {
        /// Requests sent in the bucket, per second.
        public var sent: Double
        /// Answers 2xx/3xx in the bucket, per second.
        public var ok: Double
        /// Answers 429 in the bucket, per second.
        public var throttled: Double
        /// A client's pace at the end of the bucket, when it has one.
        public var pace: Double?

        /// A bucket's rates, per second.
        public init(sent: Double, ok: Double, throttled: Double, pace: Double? = nil) {
            self.sent = sent
            self.ok = ok
            self.throttled = throttled
            self.pace = pace
        }
    }

    /// One panel: a name and its buckets, `bucketSeconds` apart.
    public struct Series: Sendable {
        /// The panel's name, drawn above it.
        public var name: String
        /// The buckets, from the start.
        public var points: [Point]

        /// A panel named `name`.
        public init(name: String, points: [Point]) {
            self.name = name
            self.points = points
        }
    }

    /// A stretch of time over which the server allows `rate` requests per second.
    public struct Allowed: Sendable {
        /// Start and end, in seconds from the start.
        public var from: Double
        public var to: Double
        /// Requests per second.
        public var rate: Double

        /// The server allows `rate` per second from `from` to `to`.
        public init(from: Double, to: Double, rate: Double) {
            self.from = from
            self.to = to
            self.rate = rate
        }
    }

    /// One bucket's latency percentiles, in milliseconds; nil when nothing was answered in it.
    public struct LatencyPoint: Sendable {
        /// The median and the 99th percentile, milliseconds.
        public var p50: Double?
        public var p99: Double?

        /// A bucket's percentiles.
        public init(p50: Double?, p99: Double?) {
            self.p50 = p50
            self.p99 = p99
        }
    }

    /// How one kind of line is drawn: its colour, width and dash pattern, and its legend label.
    struct Style {
        var key: String
        var label: String
        var color: String
        var width: Double
        var dash: String?
        var opacity: Double = 1
    }

    // Okabe–Ito: bluish green, vermillion, blue, orange, reddish purple, black.
    static let sent = Style(key: "sent", label: "sent", color: "#000000", width: 1.2, dash: "1.5 2.5")
    static let ok = Style(key: "ok", label: "2xx/3xx answered", color: "#009E73", width: 2.2, dash: nil)
    static let throttled = Style(key: "throttled", label: "429 throttled", color: "#D55E00", width: 2.2, dash: "7 5")
    static let allowed = Style(
        key: "allowed", label: "rate the server allows", color: "#E69F00", width: 5, dash: nil, opacity: 0.45)
    static let p50 = Style(key: "p50", label: "p50 latency", color: "#0072B2", width: 2, dash: nil)
    static let p99 = Style(key: "p99", label: "p99 latency", color: "#CC79A7", width: 2, dash: "6 3")
    static func pace(_ label: String) -> Style {
        Style(key: "pace", label: label, color: "#56B4E9", width: 5, dash: nil, opacity: 0.6)
    }

    static let width = 960.0
    static let left = 84.0
    static let right = 28.0
    static let plotHeight = 150.0
    /// Above a plot: its name. Below: the tick labels and the time axis title.
    static let above = 26.0
    static let below = 48.0

    /// The chart as an SVG document.
    /// - Parameters:
    ///   - title: the first line, bold.
    ///   - subtitle: the second line, grey (what the buckets are; the legend says what the lines are).
    ///   - series: one requests-per-second panel each.
    ///   - bucketSeconds: the width of a bucket.
    ///   - allowed: the rate the server allows, drawn as a wide pale band in every panel.
    ///   - showSent: draws the requests sent too.
    ///   - paceLabel: the legend's name for ``Point/pace``.
    ///   - latency: when given, a last panel with p50 and p99 per bucket, in milliseconds.
    public static func render(
        title: String, subtitle: String, series: [Series], bucketSeconds: Double, allowed: [Allowed] = [],
        showSent: Bool = false, paceLabel: String = "client's pace", latency: [LatencyPoint]? = nil
    ) -> String {
        let plotWidth = width - left - right
        let buckets = max(series.map(\.points.count).max() ?? 0, latency?.count ?? 0)
        let seconds = max(1, Double(buckets) * bucketSeconds)
        let peak = series.flatMap { $0.points.map { max($0.sent, $0.throttled, $0.ok, $0.pace ?? 0) } }.max() ?? 0
        // Headroom, so that no line runs along the frame.
        let rateAxis = Axis(upTo: max(peak * 1.05, (allowed.map(\.rate).max() ?? 0) * 1.1, 1))
        let timeAxis = Axis(span: seconds)
        let hasPace = series.contains { $0.points.contains { $0.pace != nil } }

        var styles: [Style] = []
        if !allowed.isEmpty { styles.append(Self.allowed) }
        if hasPace { styles.append(pace(paceLabel)) }
        if showSent { styles.append(sent) }
        styles += [ok, throttled]
        if latency != nil { styles += [p50, p99] }

        var svg = ""
        svg += text(title, x: left, y: 20, attributes: "font-size=\"15\" font-weight=\"bold\"")
        svg += text(subtitle, x: left, y: 38, attributes: "fill=\"#444\"")
        let (legend, legendBottom) = self.legend(styles, top: 50)
        svg += legend

        var top = legendBottom + above
        func x(_ second: Double) -> Double { left + plotWidth * min(max(second, 0), seconds) / seconds }
        for row in series {
            let plot = Plot(left: left, top: top, width: plotWidth, height: plotHeight)
            svg += frame(plot, name: row.name, axis: rateAxis, unit: "requests/s", timeAxis: timeAxis, x: x)
            for step in allowed {
                let y = plot.y(step.rate, rateAxis.top)
                svg += line(Self.allowed, [[(x(step.from), y), (x(step.to), y)]])
            }
            func points(_ value: (Point) -> Double?) -> [[(Double, Double)]] {
                segments(
                    row.points.indices.map { i in
                        value(row.points[i]).map { (x((Double(i) + 0.5) * bucketSeconds), $0) }
                    }
                )
                .map { $0.map { ($0.0, plot.y($0.1, rateAxis.top)) } }
            }
            if hasPace { svg += line(pace(paceLabel), points { $0.pace }) }
            if showSent { svg += line(sent, points { $0.sent }) }
            svg += line(ok, points { $0.ok })
            svg += line(throttled, points { $0.throttled })
            top += plotHeight + below + above
        }
        if let latency {
            let plot = Plot(left: left, top: top, width: plotWidth, height: plotHeight)
            let worst = latency.compactMap { max($0.p50 ?? 0, $0.p99 ?? 0) }.max() ?? 0
            let axis = Axis(upTo: max(worst * 1.05, 1))
            svg += frame(plot, name: "latency per second", axis: axis, unit: "latency (ms)", timeAxis: timeAxis, x: x)
            func points(_ value: (LatencyPoint) -> Double?) -> [[(Double, Double)]] {
                segments(
                    latency.indices.map { i in value(latency[i]).map { (x((Double(i) + 0.5) * bucketSeconds), $0) } }
                )
                .map { $0.map { ($0.0, plot.y($0.1, axis.top)) } }
            }
            svg += line(p50, points { $0.p50 })
            svg += line(p99, points { $0.p99 })
            top += plotHeight + below + above
        }
        let height = top - above
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>

            """ + svg + "</svg>\n"
    }

    /// A plot area, in SVG coordinates.
    struct Plot {
        var left, top, width, height: Double
        var bottom: Double { top + height }
        func y(_ value: Double, _ axisTop: Double) -> Double { bottom - height * min(max(value, 0), axisTop) / axisTop }
    }

    /// An axis from 0: a "nice" step (1, 2, 2.5 or 5 × 10ⁿ) giving 4 to 8 intervals.
    struct Axis {
        var step: Double
        var top: Double
        var ticks: [Double]

        /// A value axis: from 0 to the first tick at or above `upTo`.
        init(upTo value: Double) {
            step = Self.step(value)
            let intervals = max(4, Int((value / step - 1e-9).rounded(.up)))
            top = Double(intervals) * step
            let step = step
            ticks = (0...intervals).map { Double($0) * step }
        }

        /// A time axis: from 0 to `span`, exactly, ticks at the steps within it.
        init(span: Double) {
            step = Self.step(span)
            top = span
            let step = step
            ticks = (0...Int((span / step + 1e-9).rounded(.down))).map { Double($0) * step }
        }

        /// The largest nice step of which `value` holds at least four.
        static func step(_ value: Double) -> Double {
            let raw = value / 4
            let magnitude = pow(10, (log10(raw)).rounded(.down))
            return [5, 2.5, 2, 1].map { $0 * magnitude }.first { $0 <= raw * (1 + 1e-9) } ?? magnitude
        }

        static func label(_ value: Double) -> String {
            value == value.rounded() ? String(Int(value)) : String(format: "%g", value)
        }
    }

    /// A panel's frame: its name above, grid lines with their tick labels, the axis titles.
    static func frame(
        _ plot: Plot, name: String, axis: Axis, unit: String, timeAxis: Axis, x: (Double) -> Double
    ) -> String {
        var svg = "<g class=\"panel\">\n"
        svg += text(name, x: plot.left, y: plot.top - 9, attributes: "class=\"panel-name\" font-weight=\"bold\"")
        svg +=
            "<rect class=\"plot\" x=\"\(f(plot.left))\" y=\"\(f(plot.top))\" width=\"\(f(plot.width))\" "
            + "height=\"\(f(plot.height))\" fill=\"none\" stroke=\"#888\"/>\n"
        for tick in axis.ticks {
            let y = plot.y(tick, axis.top)
            svg +=
                "<line class=\"grid-y\" x1=\"\(f(plot.left))\" y1=\"\(f(y))\" x2=\"\(f(plot.left + plot.width))\" "
                + "y2=\"\(f(y))\" stroke=\"#e3e3e3\"/>\n"
            // The baseline 4 px below the line centres the digits (about 8 px high) on it.
            svg += text(
                Axis.label(tick), x: plot.left - 7, y: y + 4,
                attributes: "class=\"tick-y\" text-anchor=\"end\" font-size=\"11\"")
        }
        for tick in timeAxis.ticks {
            let gx = x(tick)
            svg +=
                "<line class=\"grid-x\" x1=\"\(f(gx))\" y1=\"\(f(plot.top))\" x2=\"\(f(gx))\" y2=\"\(f(plot.bottom))\" "
                + "stroke=\"#e3e3e3\"/>\n"
            svg += text(
                Axis.label(tick), x: gx, y: plot.bottom + 16,
                attributes: "class=\"tick-x\" text-anchor=\"middle\" font-size=\"11\"")
        }
        svg += text(
            "time since start (s)", x: plot.left + plot.width / 2, y: plot.bottom + 34,
            attributes: "class=\"axis-title\" text-anchor=\"middle\" fill=\"#444\"")
        let middle = plot.top + plot.height / 2
        svg += text(
            unit, x: 20, y: middle,
            attributes:
                "class=\"axis-title\" text-anchor=\"middle\" fill=\"#444\" transform=\"rotate(-90 20 \(f(middle)))\"")
        return svg + "</g>\n"
    }

    /// The legend: a swatch (the line as drawn) and a label per style, wrapped to the width.
    static func legend(_ styles: [Style], top: Double) -> (String, Double) {
        var svg = "<g class=\"legend\">\n"
        var x = left
        var y = top + 12
        for style in styles {
            let entry = 30 + 7 * Double(style.label.count) + 22
            if x + entry > width - right, x > left {
                x = left
                y += 20
            }
            svg += "<g class=\"legend-entry\" data-series=\"\(style.key)\">\n"
            svg += line(style, [[(x, y - 4), (x + 26, y - 4)]], series: false)
            svg += text(style.label, x: x + 32, y: y, attributes: "")
            svg += "</g>\n"
            x += entry
        }
        return (svg + "</g>\n", y + 6)
    }

    /// Runs of consecutive present values.
    static func segments(_ points: [(Double, Double)?]) -> [[(Double, Double)]] {
        var runs: [[(Double, Double)]] = [[]]
        for point in points {
            if let point {
                runs[runs.count - 1].append(point)
            } else if !runs[runs.count - 1].isEmpty {
                runs.append([])
            }
        }
        return runs.filter { !$0.isEmpty }
    }

    static func line(_ style: Style, _ runs: [[(Double, Double)]], series: Bool = true) -> String {
        var svg = ""
        for run in runs {
            // A single bucket is a dot's worth of line, so that it shows.
            let points = run.count == 1 ? [run[0], (run[0].0 + 2, run[0].1)] : run
            let path = points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
            var attributes = "fill=\"none\" stroke=\"\(style.color)\" stroke-width=\"\(style.width)\""
            attributes += " stroke-linejoin=\"round\""
            if let dash = style.dash { attributes += " stroke-dasharray=\"\(dash)\"" }
            if style.opacity < 1 { attributes += " stroke-opacity=\"\(style.opacity)\"" }
            let tag = series ? " class=\"series\" data-series=\"\(style.key)\"" : ""
            svg += "<polyline\(tag) points=\"\(path)\" \(attributes)/>\n"
        }
        return svg
    }

    static func text(_ content: String, x: Double, y: Double, attributes: String) -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\"\(attributes.isEmpty ? "" : " " + attributes)>\(escape(content))</text>\n"
    }

    static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
