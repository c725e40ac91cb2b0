import Convoy
import Foundation

/// Formats a ``FetchSummary`` for people: the final report and the live progress line.
enum SummaryReport {
    /// The multi-line report printed on standard error when a run ends.
    static func render(_ summary: FetchSummary, outputPath: String, errorsPath: String) -> String {
        let requests = max(summary.requests, 1)
        let share = 100 * Double(summary.throttled) / Double(requests)
        var lines: [String] = []
        let verdict = summary.interrupted ? "interrupted after" : "done in"
        lines.append("convoy: \(verdict) \(format(summary.wallSeconds, digits: 1)) s")
        lines.append("  fetched   \(pad(summary.fetched))  (\(format(summary.rate, digits: 1)) conversations/s)")
        var failed = "  failed    \(pad(summary.failed))"
        if summary.invalid > 0 { failed += "  (\(summary.invalid) not conversation ids)" }
        lines.append(failed)
        lines.append("  skipped   \(pad(summary.skipped))  (already recorded by an earlier run)")
        if summary.otherShards > 0 {
            lines.append("  others    \(pad(summary.otherShards))  (other shards' ids, left to their machines)")
        }
        if summary.duplicates > 0 {
            lines.append("  repeated  \(pad(summary.duplicates))  (duplicate ids, fetched once)")
        }
        lines.append(
            "  requests  \(pad(summary.requests))  retries \(summary.retries), 429s \(summary.throttled)"
                + " (\(format(share, digits: 2)) %)")
        if let limiter = summary.limiter {
            lines.append("  limit     " + describe(limiter))
        }
        if summary.abandoned > 0 {
            lines.append("  left      \(pad(summary.abandoned))  ids in progress; re-run the same command to resume")
        }
        lines.append("  output    \(outputPath)")
        lines.append("  errors    \(errorsPath)")
        return lines.joined(separator: "\n")
    }

    /// The one-line progress display.
    static func progressLine(_ summary: FetchSummary, elapsed: Double) -> String {
        let rate = elapsed > 0 ? Double(summary.fetched) / elapsed : 0
        var line = "fetched \(summary.fetched)  failed \(summary.failed)  skipped \(summary.skipped)"
        line += "  429s \(summary.throttled)  \(format(rate, digits: 1))/s"
        if let limiter = summary.limiter, let learned = limiter.learnedRate {
            line += "  limit \(format(learned, digits: 1))/s"
        }
        return line
    }

    /// `300 per 60 s (genesys headers) = 5.0 requests/s`, or the AIMD pace when no header said it.
    static func describe(_ limiter: RateLimiterSnapshot) -> String {
        if let limit = limiter.limit, let window = limiter.windowSeconds, let learned = limiter.learnedRate {
            let family = limiter.family.map { " (\($0.rawValue) headers)" } ?? ""
            return "\(limit) per \(format(window, digits: window < 10 ? 1 : 0)) s\(family) = "
                + "\(format(learned, digits: 1)) requests/s learned; \(limiter.pauses) pauses"
        }
        return "no budget headers; \(limiter.mode.rawValue) pace \(format(limiter.rate, digits: 1)) requests/s; "
            + "\(limiter.pauses) pauses"
    }

    static func format(_ value: Double, digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }

    private static func pad(_ value: Int) -> String {
        let text = String(value)
        return String(repeating: " ", count: max(0, 7 - text.count)) + text
    }
}
