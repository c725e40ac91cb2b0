import Foundation
import Testing

@testable import ConvoyLoad

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The chart's structure, read back as XML: a legend entry per series drawn, four or more ticks
/// per axis centred on their grid lines, units, a latency panel, and no text over a plot area.
@Suite struct TimelineChartTests {
    /// Five seconds at 200/s against a 100/s limit: in every second 100 answers 2xx and 100 429s,
    /// latencies 1, 2, … 200 ms (from the intended send), so p50 is 100 ms and p99 198 ms.
    static let summary: LoadSummary = {
        var samples: [LoadSample] = []
        for second in 0..<5 {
            for i in 0..<200 {
                // All sent in the first half of the second, so that each is answered within it.
                let intended = Double(second) + Double(i) / 400
                let answered = intended + Double(i + 1) / 1000
                samples.append(
                    LoadSample(
                        intended: intended, sent: intended, answered: answered, status: i.isMultiple(of: 2) ? 200 : 429
                    ))
            }
        }
        return LoadSummary(
            samples: samples, dropped: [], elapsed: 5, schedule: .constant(rate: 200, duration: 5))
    }()

    @Test func eachSecondKeepsItsP50AndP99() {
        let second = Self.summary.timeline[2]
        #expect(second.ok == 100 && second.throttled == 100)
        // Nearest rank: the 100th and the 198th of 200.
        #expect(second.p50Milliseconds.map { abs($0 - 100) < 1e-6 } == true, "\(String(describing: second))")
        #expect(second.p99Milliseconds.map { abs($0 - 198) < 1e-6 } == true, "\(String(describing: second))")
        #expect(Self.summary.timelineCSV.split(separator: "\n")[0].hasSuffix(",reset_s,p50_ms,p99_ms"))
        let empty = LoadSummary(samples: [], dropped: [], elapsed: 2, schedule: nil)
        #expect(empty.timeline.allSatisfy { $0.p50Milliseconds == nil && $0.p99Milliseconds == nil })
    }

    @Test func theLoadTestChartHasALegendTicksUnitsAndALatencyPanel() throws {
        let chart = try SVGDocument(Self.summary.chart(title: "convoy loadtest GET http://x/{id}", limit: nil))
        #expect(chart.legend == ["pace", "sent", "ok", "throttled", "p50", "p99"])
        #expect(Set(chart.series) == Set(chart.legend), "a legend entry per series drawn, and no more")
        #expect(chart.panelNames == ["requests per second", "latency per second"])
        #expect(chart.texts.contains { $0.content == "target rate" })
        let titles = chart.texts.filter { $0.classes == "axis-title" }.map(\.content)
        #expect(titles == ["time since start (s)", "requests/s", "time since start (s)", "latency (ms)"])
        // 200/s sent plus headroom: 0 to 250 by 50. Latency up to 198 ms: 0 to 250 by 50 too.
        #expect(chart.panels[0].yTicks == ["0", "50", "100", "150", "200", "250"])
        #expect(chart.panels[1].yTicks == ["0", "50", "100", "150", "200", "250"])
        #expect(chart.panels.allSatisfy { $0.xTicks == ["0", "1", "2", "3", "4", "5"] })
        try chart.expectTicksOnTheirGridLines()
        chart.expectNoTextOverAPlot()
    }

    @Test func seriesDifferInColourAndDash() throws {
        let chart = try SVGDocument(Self.summary.chart(title: "t", limit: nil))
        let styles = chart.legendStyles
        #expect(Set(styles.map(\.stroke)).count == styles.count, "every series its own colour: \(styles)")
        let ok = try #require(styles.first { $0.key == "ok" })
        let throttled = try #require(styles.first { $0.key == "throttled" })
        #expect(ok.dash == nil && throttled.dash != nil, "the 429 dashes show the 2xx line through them")
        #expect(ok.stroke == "#009E73" && throttled.stroke == "#D55E00", "Okabe–Ito bluish green and vermillion")
    }

    /// The benchmark harness's use: several panels, 100 ms buckets, a client's pace and an allowed
    /// rate that steps down, no latency panel.
    @Test func theBenchmarkChartHasAPanelPerStrategyAndTheAllowedRate() throws {
        let points = (0..<50).map { i in
            TimelineChart.Point(sent: 100, ok: 90, throttled: i < 25 ? 10 : 60, pace: 95)
        }
        let svg = TimelineChart.render(
            title: "steady", subtitle: "one panel per strategy",
            series: [.init(name: "convoy", points: points), .init(name: "naive", points: points)],
            bucketSeconds: 0.1, allowed: [.init(from: 0, to: 2.5, rate: 100), .init(from: 2.5, to: 5, rate: 50)],
            paceLabel: "Convoy's pace")
        let chart = try SVGDocument(svg)
        #expect(chart.legend == ["allowed", "pace", "ok", "throttled"])
        #expect(Set(chart.series) == Set(chart.legend))
        #expect(chart.panelNames == ["convoy", "naive"])
        #expect(chart.texts.contains { $0.content == "Convoy's pace" })
        // Peak 110 (the allowed 100 × 1.1): 0 to 125 by 25.
        #expect(chart.panels.allSatisfy { $0.yTicks == ["0", "25", "50", "75", "100", "125"] })
        #expect(chart.panels.allSatisfy { $0.xTicks == ["0", "1", "2", "3", "4", "5"] })
        try chart.expectTicksOnTheirGridLines()
        chart.expectNoTextOverAPlot()
    }

    @Test(arguments: [0.3, 1, 3, 7.3, 9.99, 80.4, 110, 999, 1234, 86_400])
    func everyAxisHasFourToEightIntervals(_ value: Double) {
        let axis = TimelineChart.Axis(upTo: value)
        #expect(axis.top >= value && (5...9).contains(axis.ticks.count), "\(value): \(axis.ticks)")
        let time = TimelineChart.Axis(span: value)
        #expect(time.ticks.last! <= value * (1 + 1e-9) && (5...9).contains(time.ticks.count), "\(value): \(time.ticks)")
    }

    @Test func textIsEscaped() throws {
        let svg = TimelineChart.render(
            title: "a < b & \"c\"", subtitle: "", series: [.init(name: "x>y", points: [])], bucketSeconds: 1)
        let chart = try SVGDocument(svg)
        #expect(chart.texts.contains { $0.content == "a < b & \"c\"" })
        #expect(chart.panelNames == ["x>y"])
    }
}

/// An SVG read back with `XMLParser`: its texts, lines, plot areas and legend, by panel.
private final class SVGDocument: NSObject, XMLParserDelegate {
    struct Text {
        var content: String
        var x: Double
        var y: Double
        var fontSize: Double
        var anchor: String
        var rotated: Bool
        var classes: String
    }

    struct Rect { var x, y, width, height: Double }

    struct Panel {
        var name = ""
        var plot = Rect(x: 0, y: 0, width: 0, height: 0)
        var yTicks: [String] = []
        var xTicks: [String] = []
        var tickTexts: [Text] = []
        var gridY: [Double] = []
        var gridX: [Double] = []
    }

    struct Style: CustomStringConvertible {
        var key: String
        var stroke: String
        var dash: String?
        var description: String { "\(key) \(stroke) \(dash ?? "solid")" }
    }

    private(set) var texts: [Text] = []
    private(set) var panels: [Panel] = []
    private(set) var legend: [String] = []
    private(set) var legendStyles: [Style] = []
    private(set) var series: [String] = []
    private var groups: [String] = []
    private var open: (attributes: [String: String], content: String)?
    private var fontSizes: [Double] = [12]

    var panelNames: [String] { panels.map(\.name) }

    init(_ svg: String) throws {
        super.init()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = self
        guard parser.parse() else {
            throw CocoaError(.coderReadCorrupt, userInfo: ["reason": "\(parser.parserError.map { "\($0)" } ?? "")"])
        }
    }

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        func number(_ key: String) -> Double { Double(attributes[key] ?? "") ?? .nan }
        switch name {
        case "svg":
            fontSizes = [Double(attributes["font-size"] ?? "") ?? 12]
        case "g":
            let kind = attributes["class"] ?? ""
            groups.append(kind)
            if kind == "panel" { panels.append(Panel()) }
            if kind == "legend-entry", let key = attributes["data-series"] { legend.append(key) }
        case "text":
            open = (attributes, "")
        case "rect" where attributes["class"] == "plot":
            panels[panels.count - 1].plot = Rect(
                x: number("x"), y: number("y"), width: number("width"), height: number("height"))
        case "line" where attributes["class"] == "grid-y":
            panels[panels.count - 1].gridY.append(number("y1"))
        case "line" where attributes["class"] == "grid-x":
            panels[panels.count - 1].gridX.append(number("x1"))
        case "polyline":
            if groups.last == "legend-entry" {
                legendStyles.append(
                    Style(
                        key: legend.last ?? "", stroke: attributes["stroke"] ?? "", dash: attributes["stroke-dasharray"]
                    ))
            } else if attributes["class"] == "series", let key = attributes["data-series"] {
                if !series.contains(key) { series.append(key) }
            }
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        open?.content += string
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "g": groups.removeLast()
        case "text":
            guard let (attributes, content) = open else { return }
            open = nil
            let text = Text(
                content: content, x: Double(attributes["x"] ?? "") ?? .nan, y: Double(attributes["y"] ?? "") ?? .nan,
                fontSize: Double(attributes["font-size"] ?? "") ?? fontSizes[0],
                anchor: attributes["text-anchor"] ?? "start",
                rotated: attributes["transform"]?.hasPrefix("rotate(-90") == true, classes: attributes["class"] ?? "")
            texts.append(text)
            switch text.classes {
            case "panel-name": panels[panels.count - 1].name = content
            case "tick-y":
                panels[panels.count - 1].yTicks.append(content)
                panels[panels.count - 1].tickTexts.append(text)
            case "tick-x":
                panels[panels.count - 1].xTicks.append(content)
                panels[panels.count - 1].tickTexts.append(text)
            default: break
            }
        default: break
        }
    }

    /// A y tick's digits centred on its line (baseline 4 px below), an x tick's centred over its line.
    func expectTicksOnTheirGridLines() throws {
        for panel in panels {
            #expect(panel.yTicks.count >= 4 && panel.xTicks.count >= 4, "\(panel.name)")
            #expect(panel.gridY.count == panel.yTicks.count && panel.gridX.count == panel.xTicks.count)
            for text in panel.tickTexts where text.classes == "tick-y" {
                #expect(panel.gridY.contains { abs(text.y - 4 - $0) < 0.11 }, "\(panel.name) \(text.content)")
                #expect(text.anchor == "end" && text.x < panel.plot.x)
            }
            for text in panel.tickTexts where text.classes == "tick-x" {
                #expect(panel.gridX.contains { abs(text.x - $0) < 0.11 }, "\(panel.name) \(text.content)")
                #expect(text.anchor == "middle" && text.y > panel.plot.y + panel.plot.height)
            }
        }
    }

    /// Each text's box, from its anchor, a glyph width of 0.6 em, an ascent of 0.8 em and a
    /// descent of 0.25 em (turned for rotated text), meets no plot area.
    func expectNoTextOverAPlot() {
        #expect(!panels.isEmpty)
        for text in texts {
            let length = 0.6 * text.fontSize * Double(text.content.count)
            let start =
                switch text.anchor {
                case "end": -length
                case "middle": -length / 2
                default: 0.0
                }
            let box =
                text.rotated
                ? Rect(
                    x: text.x - 0.8 * text.fontSize, y: text.y - start - length, width: 1.05 * text.fontSize,
                    height: length)
                : Rect(x: text.x + start, y: text.y - 0.8 * text.fontSize, width: length, height: 1.05 * text.fontSize)
            for panel in panels {
                let plot = panel.plot
                let meets =
                    box.x < plot.x + plot.width && box.x + box.width > plot.x && box.y < plot.y + plot.height
                    && box.y + box.height > plot.y
                #expect(!meets, "'\(text.content)' at \(box) meets \(panel.name)'s plot \(plot)")
            }
        }
    }
}
