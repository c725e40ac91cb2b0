/// A load test's figures: counts, rates, latency percentiles and a per-second timeline.
public struct LoadSummary: Sendable, Codable, Equatable {
    /// Latency percentiles in milliseconds.
    public struct Latency: Sendable, Codable, Equatable {
        public var p50: Double
        public var p90: Double
        public var p95: Double
        public var p99: Double
        public var p999: Double
        public var max: Double
        public var mean: Double
        public var min: Double

        init(_ histogram: LatencyHistogram) {
            func ms(_ microseconds: UInt64) -> Double { Double(microseconds) / 1000 }
            p50 = ms(histogram.value(atPercentile: 50))
            p90 = ms(histogram.value(atPercentile: 90))
            p95 = ms(histogram.value(atPercentile: 95))
            p99 = ms(histogram.value(atPercentile: 99))
            p999 = ms(histogram.value(atPercentile: 99.9))
            max = ms(histogram.count == 0 ? 0 : histogram.max)
            mean = histogram.mean / 1000
            min = ms(histogram.count == 0 ? 0 : histogram.min)
        }
    }

    /// One reason requests failed, and how many: a transport error's text, or `HTTP 503`.
    public struct Failure: Sendable, Codable, Equatable {
        public var reason: String
        public var count: Int
    }

    /// One second of the test.
    public struct Second: Sendable, Codable, Equatable {
        public var second: Int
        public var targetRate: Double
        public var sent: Int
        public var ok: Int
        public var throttled: Int
        public var clientErrors: Int
        public var serverErrors: Int
        public var transportErrors: Int
        public var dropped: Int
        /// Requests outstanding at the end of the second.
        public var inFlight: Int
        /// The last rate-limit headers answered in the second.
        public var limit: Int?
        public var remaining: Int?
        public var resetSeconds: Double?
        /// The median and 99th-percentile latency (from the intended send) of the requests answered
        /// in the second, milliseconds, exact (nearest rank); nil when none was answered.
        public var p50Milliseconds: Double?
        public var p99Milliseconds: Double?
    }

    public var seconds: Double
    /// Requests sent, each of them answered or failed.
    public var sent: Int
    /// By class: 2xx/3xx, 429, other 4xx, 5xx, no answer.
    public var ok: Int
    public var throttled: Int
    public var clientErrors: Int
    public var serverErrors: Int
    public var transportErrors: Int
    /// Iterations the open model could not start (`maxInFlight` outstanding).
    public var dropped: Int
    /// Requests sent per second over the test.
    public var rate: Double
    /// Latency from the intended send time (coordinated omission corrected) and from the actual send.
    public var latency: Latency
    public var latencyFromSend: Latency
    /// The worst lag of an actual send behind its due time, milliseconds.
    public var maximumSendLagMilliseconds: Double
    public var timeline: [Second]
    /// Why requests failed (no answer, other 4xx, 5xx; 429s are studied, not failures), the
    /// commonest first, then by reason.
    public var failures: [Failure]

    /// Share of answers that were 429.
    public var throttledRate: Double { sent == 0 ? 0 : Double(throttled) / Double(sent) }
    /// Share of answers that failed: 5xx or no answer (429s are the object of study, counted apart).
    public var failedRate: Double { sent == 0 ? 0 : Double(serverErrors + transportErrors) / Double(sent) }

    public init(samples: [LoadSample], dropped: [Double], elapsed: Double, schedule: LoadSchedule?) {
        var fromIntent = LatencyHistogram()
        var fromSend = LatencyHistogram()
        var lag = 0.0
        let seconds = Int(elapsed.rounded(.up))
        var timeline = (0..<Swift.max(seconds, 1)).map {
            Second(
                second: $0, targetRate: schedule?.targetRate(at: Double($0)) ?? 0, sent: 0, ok: 0, throttled: 0,
                clientErrors: 0, serverErrors: 0, transportErrors: 0, dropped: 0, inFlight: 0)
        }
        func bin(_ time: Double) -> Int { Swift.min(Swift.max(Int(time), 0), timeline.count - 1) }
        var counts = (ok: 0, throttled: 0, client: 0, server: 0, transport: 0)
        var reasons: [String: Int] = [:]
        // Each answer's latency by the second it was answered in: as many values as samples (which
        // are in memory already), reduced to two per second below.
        var latencies = [[Double]](repeating: [], count: timeline.count)
        for sample in samples {
            if let status = sample.status {
                if status >= 400, status != 429 { reasons["HTTP \(status)", default: 0] += 1 }
            } else {
                reasons[sample.error ?? "no answer", default: 0] += 1
            }
            fromIntent.record(UInt64(Swift.max(0, (sample.answered - sample.intended) * 1e6)))
            fromSend.record(UInt64(Swift.max(0, (sample.answered - sample.sent) * 1e6)))
            lag = Swift.max(lag, sample.sent - sample.intended)
            timeline[bin(sample.sent)].sent += 1
            let answered = bin(sample.answered)
            latencies[answered].append(Swift.max(0, sample.answered - sample.intended) * 1000)
            switch sample.status {
            case nil:
                counts.transport += 1
                timeline[answered].transportErrors += 1
            case 429?:
                counts.throttled += 1
                timeline[answered].throttled += 1
            case let status? where status >= 500:
                counts.server += 1
                timeline[answered].serverErrors += 1
            case let status? where status >= 400:
                counts.client += 1
                timeline[answered].clientErrors += 1
            default:
                counts.ok += 1
                timeline[answered].ok += 1
            }
            if sample.limit != nil || sample.remaining != nil {
                timeline[answered].limit = sample.limit
                timeline[answered].remaining = sample.remaining
                timeline[answered].resetSeconds = sample.resetAfter
            }
            // Outstanding at the end of each second it spanned.
            var second = Int(sample.sent)
            while Double(second + 1) <= sample.answered, second < timeline.count {
                if second >= 0 { timeline[second].inFlight += 1 }
                second += 1
            }
        }
        for time in dropped { timeline[bin(time)].dropped += 1 }
        for (second, values) in latencies.enumerated() where !values.isEmpty {
            let sorted = values.sorted()
            func rank(_ percentile: Double) -> Double {
                sorted[Swift.max(1, Int((percentile / 100 * Double(sorted.count)).rounded(.up))) - 1]
            }
            timeline[second].p50Milliseconds = rank(50)
            timeline[second].p99Milliseconds = rank(99)
        }
        self.seconds = elapsed
        sent = samples.count
        ok = counts.ok
        throttled = counts.throttled
        clientErrors = counts.client
        serverErrors = counts.server
        transportErrors = counts.transport
        self.dropped = dropped.count
        rate = elapsed > 0 ? Double(samples.count) / elapsed : 0
        latency = Latency(fromIntent)
        latencyFromSend = Latency(fromSend)
        maximumSendLagMilliseconds = lag * 1000
        self.timeline = timeline
        failures = reasons.map { Failure(reason: $0.key, count: $0.value) }.sorted {
            ($0.count, $1.reason) > ($1.count, $0.reason)
        }
    }

    /// The value of a ``Threshold`` metric, in its base unit; nil for `limit` without a report.
    public func value(of metric: String, limit: LimiterReport?) -> Double? {
        switch metric {
        case "p50": latency.p50
        case "p90": latency.p90
        case "p95": latency.p95
        case "p99": latency.p99
        case "p99.9": latency.p999
        case "max": latency.max
        case "http_429_rate": throttledRate
        case "http_req_failed": failedRate
        case "rate": rate
        case "dropped": Double(dropped)
        case "limit": limit?.ratePerSecond
        default: nil
        }
    }

    /// The timeline as CSV, one row per second.
    public var timelineCSV: String {
        var lines = [
            "second,target_rate,sent,ok,throttled,client_errors,server_errors,transport_errors,dropped,in_flight,limit,remaining,reset_s,p50_ms,p99_ms"
        ]
        for row in timeline {
            let counts: [String] = [
                "\(row.second)", Self.format(row.targetRate), "\(row.sent)", "\(row.ok)", "\(row.throttled)",
                "\(row.clientErrors)", "\(row.serverErrors)", "\(row.transportErrors)", "\(row.dropped)",
                "\(row.inFlight)",
            ]
            let headers: [String] = [
                row.limit.map(String.init) ?? "", row.remaining.map(String.init) ?? "",
                row.resetSeconds.map(Self.format) ?? "",
            ]
            let latency: [String] = [
                row.p50Milliseconds.map(Self.format) ?? "", row.p99Milliseconds.map(Self.format) ?? "",
            ]
            lines.append((counts + headers + latency).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A number with at most three decimals, for CSV and NDJSON.
    public static func format(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        return rounded == rounded.rounded() && abs(rounded) < 1e15 ? String(Int(rounded)) : String(rounded)
    }

    /// The timeline as an SVG chart (``TimelineChart``): sent, accepted and 429s per second, the
    /// target rate when the test had a schedule, the limiter's rate when a report found one, and a
    /// latency panel with each second's p50 and p99.
    public func chart(title: String, limit: LimiterReport?) -> String {
        let allowed = limit?.ratePerSecond.map { [TimelineChart.Allowed(from: 0, to: seconds, rate: $0)] } ?? []
        let scheduled = timeline.contains { $0.targetRate > 0 }
        return TimelineChart.render(
            title: title,
            subtitle: "per second of the test; latency from the intended send (coordinated omission corrected)",
            series: [
                TimelineChart.Series(
                    name: "requests per second",
                    points: timeline.map {
                        .init(
                            sent: Double($0.sent), ok: Double($0.ok), throttled: Double($0.throttled),
                            pace: scheduled ? $0.targetRate : nil)
                    })
            ],
            bucketSeconds: 1, allowed: allowed, showSent: true, paceLabel: "target rate",
            latency: timeline.map { .init(p50: $0.p50Milliseconds, p99: $0.p99Milliseconds) })
    }
}
