/// The analysis behind ``LimitFinder``: reads a limiter's signature out of samples in send order.
///
/// Signatures (see the README's load-testing section):
/// - under a rate above the limit, a **window** admits clumps of `L` in a row, restarting every
///   `W`; a **bucket** admits one request at a time, `1/r` apart, refusing those in between;
/// - after idle, a burst straddling a **fixed** window's boundary gets `2L` through, a **sliding**
///   window's only `L`;
/// - a **leaky bucket** (queue) answers its admitted requests late, by up to `burst/r`; a
///   **token bucket** answers them as fast as any.
enum LimiterInference {
    /// Acceptances that came together, between two closings of the limiter.
    struct Clump: Equatable {
        /// Send time of its first request.
        var start: Double
        var count: Int
    }

    /// Acceptances grouped where the limiter closed: a new clump starts at an acceptance that
    /// follows at least three 429s (in send order) and a gap since the previous acceptance of more
    /// than ten times the median gap, 2 % of the whole span and 5 ms. A pause of the client's own
    /// (no requests, so no 429s) does not split a clump, nor do 429s reordered among acceptances
    /// (two requests sent microseconds apart can reach the server the other way round).
    ///
    /// Acceptances before the first 429 are left out: they finish whatever budget the probe found,
    /// a partial clump, so the first clump starts where the limiter reopened.
    static func clumps(_ samples: [LoadSample]) -> [Clump] {
        let ordered = samples.filter { $0.accepted || $0.throttled }.sorted { $0.sent < $1.sent }
            .drop { !$0.throttled }
        let times = ordered.filter(\.accepted).map(\.sent)
        guard let first = times.first else { return [] }
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        let split = max(10 * median(gaps), 0.02 * ((times.last ?? first) - first), 0.005)
        var clumps: [Clump] = []
        var lastAccepted: Double?
        var refusedSince = 0
        for sample in ordered {
            guard sample.accepted else {
                refusedSince += 1
                continue
            }
            if let last = lastAccepted, sample.sent - last <= split || refusedSince < 3 {
                clumps[clumps.count - 1].count += 1
            } else {
                clumps.append(Clump(start: sample.sent, count: 1))
            }
            lastAccepted = sample.sent
            refusedSince = 0
        }
        return clumps
    }

    /// True when acceptance comes in clumps of 3 or more at a regular period (a window), not
    /// spread evenly (a bucket): at least three clumps, their periods within 25 % of each other.
    static func looksLikeWindow(_ clumps: [Clump]) -> Bool {
        guard clumps.count >= 3, median(clumps.map { Double($0.count) }) >= 3 else { return false }
        let periods = zip(clumps.dropFirst(), clumps).map { $0.start - $1.start }
        let typical = median(periods)
        return typical > 0 && periods.allSatisfy { abs($0 - typical) <= 0.25 * typical }
    }

    /// `W` = the median time between successive clumps, `L` = the median clump (the last, which
    /// may be cut short, left out).
    static func window(_ clumps: [Clump]) -> (limit: Int, seconds: Double)? {
        guard clumps.count >= 2 else { return nil }
        let periods = zip(clumps.dropFirst(), clumps).map { $0.start - $1.start }
        let counts = clumps.dropLast().map { Double($0.count) }
        return (Int(median(counts).rounded()), median(periods))
    }

    /// True when acceptances are spread evenly over `span` seconds from `start` (a bucket): no gap
    /// between them, or before the first, longer than a tenth of the span.
    static func spreadEvenly(_ samples: [LoadSample], from start: Double, span: Double) -> Bool {
        let times = [start] + samples.filter(\.accepted).map(\.sent).sorted()
        return zip(times.dropFirst(), times).allSatisfy { $0 - $1 <= 0.1 * span }
    }

    /// Accepted requests per second: the least-squares slope of the acceptances' count against
    /// their send times, `cov(t, k) / var(t)`, which a late or early first or last request moves
    /// far less than `(n − 1)/(t_last − t_first)` would.
    static func acceptedRate(_ samples: [LoadSample]) -> Double? {
        let times = samples.filter(\.accepted).map(\.sent).sorted()
        guard times.count >= 3 else { return nil }
        let n = Double(times.count)
        let meanTime = times.reduce(0, +) / n
        let meanIndex = (n - 1) / 2
        var covariance = 0.0
        var variance = 0.0
        for (index, time) in times.enumerated() {
            covariance += (time - meanTime) * (Double(index) - meanIndex)
            variance += (time - meanTime) * (time - meanTime)
        }
        return variance > 0 ? covariance / variance : nil
    }

    /// How much longer accepted requests took than refused ones: a queue holds the former and
    /// refuses the latter at once; a meter answers both alike. Comparing the two in the same
    /// stretch of time cancels whatever slows every answer (the network, a busy client).
    static func queueDelay(_ samples: [LoadSample]) -> Double {
        let accepted = samples.filter(\.accepted).map { $0.answered - $0.sent }
        let refused = samples.filter(\.throttled).map { $0.answered - $0.sent }
        guard !accepted.isEmpty, !refused.isEmpty else { return 0 }
        return median(accepted) - median(refused)
    }

    /// Seconds of latency added per place in line: the least-squares slope of the accepted
    /// requests' latencies against the order they were answered in. A queue answers a burst one
    /// interval apart (slope `1/r`); a meter answers it at once (slope near 0), however slow the
    /// server's work or the client is.
    static func latencyRamp(_ samples: [LoadSample]) -> Double {
        let latencies = samples.filter(\.accepted).sorted { $0.answered < $1.answered }.map { $0.answered - $0.sent }
        guard latencies.count >= 3 else { return 0 }
        let n = Double(latencies.count)
        let meanRank = (n - 1) / 2
        let meanLatency = latencies.reduce(0, +) / n
        var covariance = 0.0
        var variance = 0.0
        for (rank, latency) in latencies.enumerated() {
            covariance += (Double(rank) - meanRank) * (latency - meanLatency)
            variance += (Double(rank) - meanRank) * (Double(rank) - meanRank)
        }
        return covariance / variance
    }

    /// What the headers said against what the server did.
    static func headerFindings(_ samples: [LoadSample], limit: Int?) -> (lines: [String], lie: Bool) {
        var lines: [String] = []
        var lie = false
        let ordered = samples.sorted { $0.sent < $1.sent }
        // 1. Was `remaining` 0 when each run of 429s began? The least of the acceptances sent in the
        //    20 ms before it (and at least the last five): requests sent close together reach the
        //    server in either order, the more so when the transport's workers race to send them.
        var remainingAtOnset: [Int] = []
        for index in ordered.indices.dropFirst() where ordered[index].throttled && ordered[index - 1].accepted {
            let horizon = ordered[index].sent - 0.02
            let accepted = ordered[..<index].reversed().filter(\.accepted)
            let recent = accepted.prefix { $0.sent >= horizon }
            let before = (recent.count > 5 ? Array(recent) : Array(accepted.prefix(5))).compactMap(\.remaining)
            if let least = before.min() { remainingAtOnset.append(least) }
        }
        if !remainingAtOnset.isEmpty {
            let typical = Int(median(remainingAtOnset.map(Double.init)))
            if typical > 0 {
                lie = true
                lines.append(
                    "remaining LIES: 429s began while the last answer said \(typical) remained "
                        + "(median over \(remainingAtOnset.count) onsets)")
            } else {
                lines.append("remaining is honest: it said 0 on the last answer before each run of 429s")
            }
        } else {
            lines.append("remaining: no budget header seen")
        }
        // 2. Did requests sent once Retry-After had passed get through?
        var tooShort = 0
        var checked = 0
        var waits: [Double] = []
        for (index, sample) in ordered.enumerated() where sample.throttled {
            guard let retryAfter = sample.retryAfter else { continue }
            let due = sample.sent + retryAfter
            guard let resumed = ordered[(index + 1)...].first(where: { $0.accepted })?.sent else { continue }
            // Only a 429 whose wait was put to the test: something was sent after it ran out.
            guard ordered[(index + 1)...].contains(where: { $0.sent >= due }) else { continue }
            checked += 1
            waits.append(resumed - sample.sent)
            let slack = max(0.05, 0.1 * retryAfter)
            if resumed > due + slack { tooShort += 1 }
        }
        if checked > 0 {
            let named = ordered.compactMap(\.retryAfter)
            let typicalNamed = median(named)
            if Double(tooShort) > 0.5 * Double(checked) {
                lie = true
                lines.append(
                    "Retry-After LIES: it named \(format(typicalNamed)) s, but requests were refused for "
                        + "\(format(median(waits))) s (median; \(tooShort) of \(checked) waits too short)")
            } else {
                lines.append(
                    "Retry-After is honest: it named \(format(typicalNamed)) s (median); acceptance resumed "
                        + "within it (\(checked) waits checked)")
            }
        } else if ordered.contains(where: \.throttled) {
            lines.append("Retry-After: none sent with the 429s")
        }
        // 3. The stated limit against the enforced one.
        let stated = ordered.compactMap(\.limit)
        if let limit, !stated.isEmpty {
            let typical = Int(median(stated.map(Double.init)))
            if abs(Double(typical - limit)) > 0.05 * Double(limit) {
                lie = true
                lines.append("limit LIES: the headers state \(typical), the server enforced \(limit)")
            } else {
                lines.append("limit is honest: the headers state \(typical), the server enforced \(limit)")
            }
        }
        return (lines, lie)
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    static func format(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
