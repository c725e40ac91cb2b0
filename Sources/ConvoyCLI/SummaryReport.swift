import Convoy
import Foundation

/// Formats a ``FetchSummary`` for people: the final report and the live progress line.
enum SummaryReport {
    /// The multi-line report printed on standard error when a run ends. It does not say how the
    /// run ended: ``ending(_:)`` (or the error) says that, after every other line.
    /// - Parameter total: the input's lines when known before the run, to count what is left.
    /// - Parameter reasons: the reasons of this run's failures, counted (``FailureTally``); the
    ///   commonest three are shown.
    static func render(
        _ summary: FetchSummary, outputPath: String, errorsPath: String, total: Int? = nil,
        reasons: [(reason: String, count: Int)] = []
    ) -> String {
        let requests = max(summary.requests, 1)
        let share = 100 * Double(summary.throttled) / Double(requests)
        var lines: [String] = []
        lines.append("convoy: summary of \(format(summary.wallSeconds, digits: 1)) s")
        lines.append("  fetched   \(pad(summary.fetched))  (\(format(summary.rate, digits: 1)) conversations/s)")
        var failed = "  failed    \(pad(summary.failed))"
        if summary.invalid > 0 { failed += "  (\(summary.invalid) not conversation ids)" }
        lines.append(failed)
        for (index, reason) in reasons.prefix(3).enumerated() {
            lines.append((index == 0 ? "  reasons   " : "            ") + "\(reason.reason) ×\(reason.count)")
        }
        let more = reasons.dropFirst(3).reduce(0) { $0 + $1.count }
        if more > 0 { lines.append("            and \(more) more, for other reasons (see \(errorsPath))") }
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
        if summary.analyticsBatches > 0 {
            var batches =
                "  batches   \(pad(summary.analyticsBatches))  analytics requests of up to "
                + "\(summary.analyticsBatchSize) ids"
            if let refusal = summary.analyticsBatchRefusal {
                batches += " (cut after \(refusal); --analytics-batch sets the size)"
            }
            lines.append(batches)
        }
        if let limiter = summary.limiter {
            lines.append("  limit     " + describe(limiter))
        }
        if let left = left(summary, total: total) { lines.append(left) }
        lines.append("  output    \(outputPath)")
        lines.append("  errors    \(errorsPath)")
        return lines.joined(separator: "\n")
    }

    /// The `left` line of an interrupted run: the ids in progress and, when the input was not read
    /// to its end, the lines not read yet (counted when the input's size is known); nil when
    /// nothing was left.
    static func left(_ summary: FetchSummary, total: Int?) -> String? {
        guard summary.interrupted else { return nil }
        let unread = summary.inputComplete ? 0 : total.map { max(0, $0 - summary.inputRecords) }
        let prefix = "  left      "
        let resume = "; re-run the same command to resume"
        switch unread {
        case 0?:
            guard summary.abandoned > 0 else { return nil }
            return prefix + pad(summary.abandoned) + "  ids in progress" + resume
        case let unread?:
            return prefix + pad(summary.abandoned + unread)
                + "  ids not done (\(summary.abandoned) in progress, about \(unread) not read yet)" + resume
        case nil:
            return prefix + pad(summary.abandoned) + "  ids in progress, and the rest of the input not read" + resume
        }
    }

    /// The last line of a run that ran to its end or was interrupted (a failed run ends with its
    /// error instead): `convoy: done`, `convoy: done: 3 ids failed (…)`, `convoy: interrupted …`.
    static func ending(_ summary: FetchSummary, errorsPath: String) -> String {
        if summary.interrupted { return "convoy: interrupted: re-run the same command to resume" }
        if summary.failed > 0 {
            return
                "convoy: done: \(summary.failed) id\(summary.failed == 1 ? "" : "s") failed (reasons in \(errorsPath))"
        }
        return "convoy: done"
    }

    /// What the progress line knows of the whole job.
    struct Job {
        /// The input's lines, when known before the run.
        var total: Int?
        /// Requests each id of this machine's shard costs: one per part, a batch's share for
        /// batched analytics.
        var requestsPerID = 1.0
        /// The shards the input is split into (1: this machine fetches all).
        var shards = 1
    }

    /// The one-line progress display, fitted to `width` columns (``ProgressLine``; a log line
    /// has no limit). With the input's size known: a bar, the share of the input done, and an ETA
    /// from the learned limit, not from the rate so far:
    /// `ETA = (total − done) ÷ shards × requestsPerID ÷ limit`, where done counts every id handled
    /// (fetched, failed, skipped, repeated, left to other shards). A narrow terminal keeps the
    /// share, the ETA and the counts of fetched and failed ids first.
    static func progressLine(_ summary: FetchSummary, elapsed: Double, job: Job = Job(), width: Int = .max) -> String {
        let rate = elapsed > 0 ? Double(summary.fetched) / elapsed : 0
        var line = ProgressLine()
        if let total = job.total, total > 0 {
            let done =
                summary.fetched + summary.failed + summary.skipped + summary.duplicates + summary.otherShards
            let share = min(1, Double(done) / Double(total))
            let bar = width >= 100 ? 20 : 10
            let filled = Int(share * Double(bar))
            line.add(
                "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: bar - filled) + "]",
                priority: 8)
            line.add("\(format(100 * share, digits: 1)) %", priority: 0)
            line.add("\(done)/\(total)", priority: 5)
            let remaining = Double(max(0, total - done)) / Double(max(1, job.shards)) * job.requestsPerID
            if let limiter = summary.limiter {
                let pace = limiter.learnedRate ?? limiter.rate
                if remaining == 0 {
                    line.add("ETA 0s", priority: 1)
                } else if pace > 0 {
                    line.add("ETA \(clock(remaining / pace))", priority: 1)
                }
            }
        }
        line.add("fetched \(summary.fetched)", priority: 2)
        line.add("failed \(summary.failed)", priority: 3)
        line.add("skipped \(summary.skipped)", priority: 9)
        line.add("429s \(summary.throttled)", priority: 6)
        line.add("\(format(rate, digits: 1))/s", priority: 4)
        if let limiter = summary.limiter, let learned = limiter.learnedRate {
            line.add("limit \(format(learned, digits: 1))/s", priority: 7)
        }
        return line.fitted(width: width)
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

    /// The line that announces a long pause of every request, `--no-progress` or not.
    static func announce(_ pause: LongPause) -> String {
        let asked =
            "the server asked every request to wait \(clock(pause.requested.seconds)) (\(pause.source.rawValue))"
        guard pause.isCapped else { return "convoy: \(asked); pausing for it" }
        return "convoy: \(asked); pausing for \(clock(pause.applied.seconds)), the --max-pause cap"
    }

    /// `45s`, `12m05s`, `3h12m`, `2d04h`.
    static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        switch whole {
        case ..<60: return "\(whole)s"
        case ..<3600: return String(format: "%dm%02ds", whole / 60, whole % 60)
        case ..<86400: return String(format: "%dh%02dm", whole / 3600, whole % 3600 / 60)
        default: return String(format: "%dd%02dh", whole / 86400, whole % 86400 / 3600)
        }
    }

    static func format(_ value: Double, digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }

    private static func pad(_ value: Int) -> String {
        let text = String(value)
        return String(repeating: " ", count: max(0, 7 - text.count)) + text
    }
}
