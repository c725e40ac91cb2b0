import ConvoyLoad
import Foundation

/// Formats a load test's summary, limiter report and thresholds for people.
enum LoadTestReport {
    /// How a load test ended, said last in its summary.
    enum Ending: Equatable {
        case done
        case interrupted
        /// Thresholds failed (exit 99).
        case thresholdsFailed(failed: Int, of: Int)
        /// Requests were sent and not one was answered: nothing was measured of the server (exit 1).
        case noAnswer(reason: String)

        /// The exit status: 0 done, 1 no answer, 99 a threshold failed, 130 interrupted.
        var status: Int32 {
            switch self {
            case .done: 0
            case .interrupted: 130
            case .thresholdsFailed: 99
            case .noAnswer: 1
            }
        }

        var text: String {
            switch self {
            case .done: "done"
            case .interrupted: "interrupted (Ctrl-C): the figures are of what ran"
            case .thresholdsFailed(let failed, let total): "failed: \(failed) of \(total) thresholds did not hold"
            case .noAnswer(let reason): "failed: no request was answered (\(reason))"
            }
        }
    }

    /// How the run ended, given what it measured: not one answer outranks everything (nothing was
    /// measured); an interruption outranks the thresholds, which are not judged on part of a run.
    static func ending(
        summary: LoadSummary, verdicts: [(Threshold, Double?, Bool)], interrupted: Bool
    ) -> Ending {
        if summary.sent > 0, summary.transportErrors == summary.sent {
            let reason = summary.failures.first.map { "\($0.reason) ×\($0.count)" } ?? "no answer"
            return .noAnswer(reason: reason)
        }
        if interrupted { return .interrupted }
        let failed = verdicts.filter { !$0.2 }.count
        return failed > 0 ? .thresholdsFailed(failed: failed, of: verdicts.count) : .done
    }

    /// The failure reasons shown at most.
    static let reasonsShown = 5

    static func render(
        summary: LoadSummary, report: LimiterReport?, mode: LoadTestCommand.Mode, maxInFlight: Int,
        verdicts: [(Threshold, Double?, Bool)], ending: Ending
    ) -> String {
        var lines: [String] = []
        lines.append("LOAD TEST")
        lines.append("  model      " + describe(mode, maxInFlight: maxInFlight))
        lines.append(
            "  requests   \(summary.sent) sent in \(f(summary.seconds, 1)) s (\(f(summary.rate, 1))/s), "
                + "\(summary.dropped) dropped"
                + (summary.dropped > 0 ? " (no free slot: the rate could not be kept)" : ""))
        lines.append(
            "  answers    2xx/3xx \(summary.ok), 429 \(summary.throttled) (\(f(summary.throttledRate * 100, 2)) %), "
                + "other 4xx \(summary.clientErrors), 5xx \(summary.serverErrors), no answer \(summary.transportErrors)"
        )
        if !summary.failures.isEmpty {
            let shown = summary.failures.prefix(reasonsShown)
            lines.append(
                "  failures   " + shown.map { "\($0.reason) ×\($0.count)" }.joined(separator: "\n             "))
            let more = summary.failures.dropFirst(reasonsShown).reduce(0) { $0 + $1.count }
            if more > 0 { lines.append("             and \(more) more, for other reasons (see --requests)") }
        }
        lines.append("  latency    from due time:  " + latency(summary.latency))
        lines.append("             from send:      " + latency(summary.latencyFromSend))
        lines.append("  send lag   at most \(f(summary.maximumSendLagMilliseconds, 1)) ms behind schedule")
        if let report {
            lines.append("")
            lines.append("LIMITER")
            lines.append("  kind       \(report.kind.rawValue) (confidence \(report.confidence.rawValue))")
            if let limit = report.limit, let window = report.windowSeconds {
                lines.append("  limit      \(limit) per \(f(window, 2)) s = \(f(Double(limit) / window, 1)) requests/s")
            } else if let rate = report.ratePerSecond {
                lines.append("  rate       \(f(rate, 1)) requests/s")
            }
            if let burst = report.burst {
                lines.append(
                    "  burst      \(burst)" + (report.kind == .leakyBucket ? " (queued, as nginx's burst)" : " (depth)")
                )
            }
            if let onset = report.onsetSeconds {
                lines.append("  onset      first 429 after \(report.acceptedBeforeOnset) accepted in \(f(onset, 2)) s")
            }
            if !report.acceptedPerPeriod.isEmpty {
                let unit = report.windowSeconds == nil ? "per second" : "per window"
                lines.append(
                    "  accepted   \(unit): "
                        + report.acceptedPerPeriod.prefix(12).map(String.init).joined(separator: " "))
            }
            lines.append("  evidence")
            lines += report.evidence.map { "    - " + $0 }
            lines.append("  headers" + (report.headersLie ? "    (the headers do not tell the truth)" : ""))
            lines += report.headers.map { "    - " + $0 }
            lines.append("  probe      \(report.requests) requests in \(f(report.seconds, 1)) s")
        }
        if !verdicts.isEmpty {
            lines.append("")
            lines.append("THRESHOLDS")
            for (threshold, value, holds) in verdicts {
                lines.append(
                    "  \(holds ? "ok  " : "FAIL") \(threshold.description)  (measured \(value.map(threshold.display) ?? "nothing"))"
                )
            }
        }
        lines.append("")
        lines.append("RESULT     " + ending.text)
        return lines.joined(separator: "\n")
    }

    static func describe(_ mode: LoadTestCommand.Mode, maxInFlight: Int) -> String {
        switch mode {
        case .findLimit:
            return "--find-limit: burst from idle, over the limit, across a boundary"
        case .schedule(let schedule):
            switch schedule.model {
            case .closed(let users, let duration):
                return "closed, \(users) users for \(f(duration, 1)) s"
            case .open(let start, let stages):
                if stages.count == 1, stages[0].target == start {
                    return "open, \(f(start, 1))/s for \(f(stages[0].duration, 1)) s (at most \(maxInFlight) in flight)"
                }
                let text = stages.map { "\(f($0.duration, 1)) s → \(f($0.target, 1))/s" }.joined(separator: ", ")
                return "open, from \(f(start, 1))/s: \(text) (at most \(maxInFlight) in flight)"
            }
        }
    }

    private static func latency(_ latency: LoadSummary.Latency) -> String {
        "p50 \(f(latency.p50, 1))  p90 \(f(latency.p90, 1))  p99 \(f(latency.p99, 1))  "
            + "p99.9 \(f(latency.p999, 1))  max \(f(latency.max, 1)) ms"
    }

    private static func f(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
}
