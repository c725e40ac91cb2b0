import Convoy
import ConvoyLoad
import Foundation

/// `loadtest --summary-export`: the summary in the shape of k6's end-of-test JSON (`handleSummary`'s
/// data), so tools that read k6's read it, with Convoy's own figures beside.
///
/// k6's metrics, with its value keys: `http_reqs` and `dropped_iterations` {count, rate},
/// `http_req_duration` {min, med, avg, max, p(90), p(95), p(99), p(99.9)} in milliseconds from the
/// due time, `http_req_failed` {rate, passes, fails} (passes are failed requests, as in k6).
/// Convoy's: `http_429_rate` {rate, passes, fails}, `http_req_duration_from_send` (a trend),
/// `limiter_rate` {value} with `--find-limit`. Each `--threshold` appears, as written, under its
/// metric's `thresholds` with `{"ok": true|false}`. `convoy` holds the metadata (version, URL
/// without credentials, method, model, start) and the whole summary; `limiter` the limiter report.
struct LoadTestExport {
    struct Metadata {
        var version: String
        var url: String
        var method: String
        var model: String
        var start: String
    }

    var summary: LoadSummary
    var limiter: LimiterReport?
    var verdicts: [(Threshold, Double?, Bool)]
    var metadata: Metadata

    /// The k6 metric a Convoy threshold metric judges.
    static func k6Metric(of metric: String) -> String {
        switch metric {
        case "http_429_rate": "http_429_rate"
        case "http_req_failed": "http_req_failed"
        case "rate": "http_reqs"
        case "dropped": "dropped_iterations"
        case "limit": "limiter_rate"
        default: "http_req_duration"
        }
    }

    /// The export as pretty JSON with sorted keys.
    func json() throws -> Data {
        let seconds = max(summary.seconds, 1e-9)
        func trend(_ latency: LoadSummary.Latency) -> [String: Any] {
            [
                "type": "trend", "contains": "time",
                "values": [
                    "min": latency.min, "med": latency.p50, "avg": latency.mean, "max": latency.max,
                    "p(90)": latency.p90, "p(95)": latency.p95, "p(99)": latency.p99, "p(99.9)": latency.p999,
                ],
            ]
        }
        func counter(_ count: Int) -> [String: Any] {
            ["type": "counter", "contains": "default", "values": ["count": count, "rate": Double(count) / seconds]]
        }
        func rate(_ passes: Int) -> [String: Any] {
            [
                "type": "rate", "contains": "default",
                "values": [
                    "rate": summary.sent == 0 ? 0 : Double(passes) / Double(summary.sent), "passes": passes,
                    "fails": summary.sent - passes,
                ],
            ]
        }
        var metrics: [String: [String: Any]] = [
            "http_reqs": counter(summary.sent),
            "dropped_iterations": counter(summary.dropped),
            "http_req_duration": trend(summary.latency),
            "http_req_duration_from_send": trend(summary.latencyFromSend),
            "http_req_failed": rate(summary.serverErrors + summary.transportErrors),
            "http_429_rate": rate(summary.throttled),
        ]
        if let perSecond = limiter?.ratePerSecond {
            metrics["limiter_rate"] = ["type": "gauge", "contains": "default", "values": ["value": perSecond]]
        }
        for (threshold, _, holds) in verdicts {
            let name = Self.k6Metric(of: threshold.metric)
            var metric = metrics[name] ?? ["type": "gauge", "contains": "default", "values": [String: Any]()]
            var thresholds = metric["thresholds"] as? [String: Any] ?? [:]
            thresholds[threshold.description] = ["ok": holds]
            metric["thresholds"] = thresholds
            metrics[name] = metric
        }
        let encoder = JSONEncoder()
        func object(_ value: some Encodable) throws -> Any {
            try JSONSerialization.jsonObject(with: try encoder.encode(value))
        }
        var root: [String: Any] = [
            "metrics": metrics,
            "root_group": [
                "name": "", "path": "", "id": "d41d8cd98f00b204e9800998ecf8427e", "groups": [], "checks": [],
            ],
            "options": [
                "summaryTrendStats": ["avg", "min", "med", "max", "p(90)", "p(95)", "p(99)", "p(99.9)"],
                "summaryTimeUnit": "ms", "noColor": false,
            ],
            "state": ["testRunDurationMs": summary.seconds * 1000],
            "convoy": [
                "version": metadata.version, "url": metadata.url, "method": metadata.method, "model": metadata.model,
                "start": metadata.start, "summary": try object(summary),
            ],
        ]
        if let limiter { root["limiter"] = try object(limiter) }
        return try JSONSerialization.data(
            withJSONObject: root, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }
}
