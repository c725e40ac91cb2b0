import Foundation

/// A pass/fail condition on a load test's summary, as k6 has them: `p99<500ms`,
/// `http_429_rate<1%`, `limit>=95/s`, `dropped==0`.
///
/// Metrics: `p50`, `p90`, `p95`, `p99`, `p99.9`, `max` (latency from the intended send time, in
/// milliseconds; `s` and `ms` accepted), `http_429_rate` and `http_req_failed` (shares of the
/// answers; `%` accepted), `rate` (requests sent per second), `dropped` (iterations not sent), and
/// `limit` (the rate the limiter allows, from `--find-limit`, per second).
public struct Threshold: Sendable, Equatable, CustomStringConvertible {
    public enum Comparison: String, Sendable, CaseIterable {
        case lessOrEqual = "<=", greaterOrEqual = ">=", equal = "==", less = "<", greater = ">"
    }

    public static let metrics = [
        "p50", "p90", "p95", "p99", "p99.9", "max", "http_429_rate", "http_req_failed", "rate", "dropped", "limit",
    ]

    public var metric: String
    public var comparison: Comparison
    /// In the metric's base unit: milliseconds, a share (0–1), per second, or a count.
    public var value: Double
    public let description: String
    /// The unit the threshold was written in (`%`, `s`, `ms`, `/s`, `/m`), or `""` for none: the
    /// measured value is shown in it (``display(_:)``).
    public let unit: String

    /// Parses `METRIC OP VALUE[UNIT]`; nil when the text is not one.
    public init?(_ text: String) {
        let compact = text.filter { !$0.isWhitespace }
        // Two-character operators first, so `<=` is not read as `<`.
        guard let comparison = Comparison.allCases.first(where: { compact.contains($0.rawValue) }),
            let range = compact.range(of: comparison.rawValue)
        else { return nil }
        let metric = String(compact[..<range.lowerBound])
        var number = String(compact[range.upperBound...])
        guard Self.metrics.contains(metric) else { return nil }
        // Units each metric takes, as (suffix, multiplier, divisor) to its base unit.
        let units: [(String, Double, Double)] =
            switch metric {
            case "http_429_rate", "http_req_failed": [("%", 1, 100)]
            case "rate", "limit": [("/s", 1, 1), ("/m", 1, 60)]
            case "dropped": []
            default: [("ms", 1, 1), ("s", 1000, 1)]
            }
        var scale = (1.0, 1.0)
        var written = ""
        if let unit = units.first(where: { number.hasSuffix($0.0) }) {
            number = String(number.dropLast(unit.0.count))
            scale = (unit.1, unit.2)
            written = unit.0
        }
        guard let value = Double(number), value.isFinite else { return nil }
        self.metric = metric
        self.comparison = comparison
        self.value = value * scale.0 / scale.1
        description = text
        unit = written
        self.scale = scale.0 / scale.1
    }

    /// From the unit written to the base unit.
    private let scale: Double

    /// `measured` (in the metric's base unit) in the unit the threshold was written in, as the
    /// threshold reads: `46.4 %` for `http_429_rate<1%`, `0.042 s` for `p99<1s`, `42.5 ms` for
    /// `p99<500ms`, `2` for `dropped==0`. Without a unit, latencies are in ms and rates per second.
    public func display(_ measured: Double) -> String {
        let value = measured / scale
        func number(_ digits: Int) -> String { String(format: "%.\(digits)f", value) }
        switch unit {
        case "%": return number(value != 0 && abs(value) < 0.1 ? 3 : 1) + " %"
        case "s": return number(3) + " s"
        case "ms": return number(1) + " ms"
        case "/s", "/m": return number(1) + unit
        default:
            switch metric {
            case "dropped": return number(0)
            case "http_429_rate", "http_req_failed": return number(3)
            case "rate", "limit": return number(1) + "/s"
            default: return number(1) + " ms"
            }
        }
    }

    /// True when `measured` (in the metric's base unit) meets the threshold.
    public func holds(_ measured: Double) -> Bool {
        switch comparison {
        case .less: measured < value
        case .lessOrEqual: measured <= value
        case .greater: measured > value
        case .greaterOrEqual: measured >= value
        case .equal: abs(measured - value) < 1e-9
        }
    }
}
