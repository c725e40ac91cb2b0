import Synchronization

/// Finds a server's rate limit and infers its limiter, in three probes of a few windows each.
///
/// 1. **Burst from idle**: `burstConcurrency` requests at a time until the first 429. Accepted in
///    the burst: `A`, sent over `T₁` seconds.
/// 2. **Over the limit**: a constant rate `R₂ = A / (2·T₁)` (clamped to `maximumRate`; raised
///    fourfold while more than half of its requests are accepted), until acceptance has come in
///    three clumps at a regular period (a window: clumps of `L`, `W` apart), or 60 requests were
///    accepted evenly over at least 3 s (a bucket: rate `r` the slope of their count over time, depth
///    `A − r·T₁`; a leaky bucket's `burst` is one less, as nginx counts the request being served).
///    Accepted requests answered later than the 429s beside them by at least half an interval, and
///    the burst's acceptances answered one after another (at least half an interval apart), were
///    queued: a leaky bucket.
/// 3. **Across a boundary** (windows only): after a window of idle, `2L` requests spread evenly
///    over `[B − δ, B + δ)` around a predicted boundary `B`, `δ ≤ W/4`. A fixed window lets about
///    `2L` through (a full window on each side), a sliding window `L`.
public struct LimitFinder<C: Clock>: Sendable where C.Duration == Duration {
    public let runner: LoadRunner<C>
    public let clock: C
    /// Requests in flight during the first burst.
    public var burstConcurrency = 32
    /// The fastest the probe sends, requests per second.
    public var maximumRate = 2000.0
    /// The longest the probe sends, seconds (idle time excluded).
    public var maximumSeconds = 180.0
    /// Requests outstanding at most.
    public var maxInFlight = 512
    /// Sends with another token (`--tokens`): right after the first 429, a few requests go with it
    /// to tell a limit per token from one the tokens share.
    public var otherToken: LoadRunner<C>?

    public init(runner: LoadRunner<C>, clock: C) {
        self.runner = runner
        self.clock = clock
    }

    /// Runs the probes and returns the report with every sample sent.
    public func run() async -> (report: LimiterReport, samples: [LoadSample]) {
        let origin = clock.now
        var samples: [LoadSample] = []
        var evidence: [String] = []
        func elapsed() -> Double { origin.duration(to: clock.now).seconds }

        // 1. Burst from idle.
        // Stop at the first 429, or after 100 answers none of which the limiter judged (a target
        // that fails every request has nothing to say about its limiter).
        let unjudged = FailureCount()
        let burst = await runner.run(
            LoadSchedule(.closed(users: burstConcurrency, duration: min(30, maximumSeconds))),
            maxInFlight: maxInFlight, origin: origin, stop: { unjudged.count($0) >= 100 || $0.throttled })
        samples += burst.samples
        let ordered = burst.samples.sorted { $0.sent < $1.sent }
        guard let onset = ordered.first(where: \.throttled), !Task.isCancelled else {
            var report = LimiterReport(kind: .none)
            let failed = ordered.filter { !$0.accepted }
            if ordered.contains(where: \.accepted) {
                report.evidence = [
                    "\(ordered.count) requests with \(burstConcurrency) in flight "
                        + "(\(Int(Double(ordered.count) / max(burst.elapsed, 0.001)))/s) were answered without a 429"
                ]
            } else {
                let statuses = Set(failed.map { $0.status.map(String.init) ?? "no answer" }).sorted()
                report.evidence = [
                    "none of \(ordered.count) requests was accepted or refused by a limiter (\(statuses.joined(separator: ", "))): "
                        + "check the URL and the credentials"
                ]
            }
            return (finish(report, samples, elapsed()), samples)
        }
        let start = ordered.first?.sent ?? 0
        // Every acceptance of the burst, those in flight when the first 429 came included.
        let accepted = ordered.filter(\.accepted)
        let onsetSeconds = onset.sent - start
        let burstSeconds = (ordered.last?.sent ?? start) - start
        var scope: String?
        if let otherToken {
            let probe = await otherToken.run(.constant(rate: 1000, duration: 0.005), maxInFlight: 5, origin: origin)
            let through = probe.samples.filter(\.accepted).count
            scope =
                through > 0
                ? "scope: right after the first token's 429, \(through) of \(probe.samples.count) requests with a "
                    + "second token were accepted: the limit is per token"
                : "scope: right after the first token's 429, all \(probe.samples.count) requests with a second token "
                    + "were refused too: the tokens share one budget"
        }
        evidence.append(
            "burst from idle: \(accepted.count) accepted, the first 429 after \(LimiterInference.format(onsetSeconds)) s"
        )

        // 2. Over the limit.
        var rate = min(max(Double(max(accepted.count, 1)) / max(onsetSeconds, 0.005) / 2, 2), maximumRate)
        var over: [LoadSample] = []
        var overStart = elapsed()
        while !Task.isCancelled {
            let phaseStart = elapsed()
            let collected = SampleLog()
            let result = await runner.run(
                .constant(rate: rate, duration: max(1, maximumSeconds - phaseStart)), maxInFlight: maxInFlight,
                origin: origin,
                stop: { sample in collected.add(sample, since: phaseStart) }
            )
            samples += result.samples
            over = result.samples
            overStart = phaseStart
            // Nothing refused, or most accepted: the probe was below the limit or too close to it
            // for a bucket's refusals to stand out from a window's.
            let answered = over.filter { $0.accepted || $0.throttled }.count
            let mostlyRefused = answered > 0 && 2 * over.filter(\.accepted).count <= answered
            if mostlyRefused || rate >= maximumRate { break }
            rate = min(rate * 4, maximumRate)
        }
        let clumps = LimiterInference.clumps(over)
        var report: LimiterReport
        if LimiterInference.looksLikeWindow(clumps), let window = LimiterInference.window(clumps) {
            evidence.append(
                "over the limit at \(LimiterInference.format(rate))/s: accepted in clumps of \(window.limit) "
                    + "(median of \(clumps.count)), every \(LimiterInference.format(window.seconds)) s")
            report = await boundaryProbe(
                window: window, clumps: clumps, origin: origin, samples: &samples, evidence: &evidence)
            report.acceptedPerPeriod = clumps.map(\.count)
        } else {
            let settled = over.filter { $0.sent >= overStart }
            let measured = LimiterInference.acceptedRate(settled) ?? 0
            let delay = LimiterInference.queueDelay(settled)
            let ramp = LimiterInference.latencyRamp(burst.samples)
            let queued = measured > 0 && delay >= max(0.003, 0.5 / measured) && ramp >= 0.5 / measured
            report = LimiterReport(kind: queued ? .leakyBucket : .tokenBucket)
            report.ratePerSecond = measured
            let depth = Double(accepted.count) - measured * burstSeconds
            report.burst = max(0, Int((queued ? depth - 1 : depth).rounded()))
            evidence.append(
                "over the limit at \(LimiterInference.format(rate))/s: accepted one at a time, "
                    + "\(LimiterInference.format(measured))/s over \(settled.filter(\.accepted).count) acceptances")
            evidence.append(
                queued
                    ? "accepted requests were answered \(LimiterInference.format(delay * 1000)) ms later than the 429s "
                        + "(about \(LimiterInference.format(delay * measured)) intervals), the burst's one "
                        + "\(LimiterInference.format(ramp * 1000)) ms after another: a queue, the excess delayed"
                    : "the burst's accepted requests were answered together (\(LimiterInference.format(ramp * 1000)) ms "
                        + "apart, an interval is \(LimiterInference.format(1000 / max(measured, 1e-9))) ms), "
                        + "\(LimiterInference.format(delay * 1000)) ms after the 429s: a meter, the excess refused at once"
            )
            evidence.append(
                "depth: \(accepted.count) accepted in the burst − \(LimiterInference.format(measured))/s × "
                    + "\(LimiterInference.format(burstSeconds)) s = \(LimiterInference.format(max(0, depth)))")
            let span = (over.map(\.sent).max() ?? overStart) - overStart
            report.confidence = LimiterInference.spreadEvenly(over, from: overStart, span: span) ? .high : .medium
            var perSecond: [Int: Int] = [:]
            for sample in settled where sample.accepted { perSecond[Int(sample.sent), default: 0] += 1 }
            report.acceptedPerPeriod = perSecond.keys.sorted().dropFirst().dropLast().map { perSecond[$0]! }
        }
        report.onsetSeconds = onsetSeconds
        report.acceptedBeforeOnset = accepted.count
        report.evidence = evidence + report.evidence
        // A window's stated limit is comparable with `L`; a bucket's (its depth, or nginx's burst + 1) is not.
        let findings = LimiterInference.headerFindings(samples, limit: report.limit)
        report.headers = findings.lines + (scope.map { [$0] } ?? [])
        report.headersLie = findings.lie
        return (finish(report, samples, elapsed()), samples)
    }

    /// Probe 3: a burst of `2L` across a predicted boundary, after a window of idle.
    private func boundaryProbe(
        window: (limit: Int, seconds: Double), clumps: [LimiterInference.Clump], origin: C.Instant,
        samples: inout [LoadSample], evidence: inout [String]
    ) async -> LimiterReport {
        let period = window.seconds
        let limit = window.limit
        var report = LimiterReport(kind: .fixedWindow)
        report.limit = limit
        report.windowSeconds = period
        report.ratePerSecond = Double(limit) / period
        let lastSent = samples.map(\.sent).max() ?? 0
        let idleUntil = lastSent + 1.05 * period
        var delta = period / 4
        if Double(limit) / delta > maximumRate { delta = Double(limit) / maximumRate }
        guard delta < period / 2, let last = clumps.last?.start else {
            report.confidence = .low
            evidence.append(
                "the boundary probe would need more than \(Int(maximumRate))/s: fixed or sliding is a guess")
            return report
        }
        let steps = ((idleUntil + delta - last) / period).rounded(.up)
        let boundary = last + steps * period
        try? await clock.sleep(until: origin.advanced(by: .seconds(boundary - delta)), tolerance: nil)
        let probe = await runner.run(
            .constant(rate: Double(limit) / delta, duration: 2 * delta), maxInFlight: maxInFlight, origin: origin)
        samples += probe.samples
        let through = probe.samples.filter(\.accepted).count
        let ratio = Double(through) / Double(max(limit, 1))
        // A sliding window lets exactly L through here (nothing of the idle window is left to age
        // out within 2δ ≤ W/2); a fixed one L plus whatever falls on the boundary's far side, which
        // is less than L when the predicted boundary is off (a window measured 1 % long, five
        // windows back, moves it by 5 %).
        if ratio > 1.2 {
            report.kind = .fixedWindow
            report.confidence = ratio >= 1.8 ? .high : .medium
            evidence.append(
                "after idle, \(2 * limit) requests across the boundary predicted at \(LimiterInference.format(boundary)) s: "
                    + "\(through) accepted (\(LimiterInference.format(ratio)) L): the count restarts at boundaries")
        } else {
            report.kind = .slidingWindow
            report.confidence = ratio <= 1.05 ? .high : .medium
            evidence.append(
                "after idle, \(2 * limit) requests across the boundary predicted at \(LimiterInference.format(boundary)) s: "
                    + "\(through) accepted (\(LimiterInference.format(ratio)) L): no span of \(LimiterInference.format(period)) s "
                    + "holds more than L")
        }
        return report
    }

    private func finish(_ report: LimiterReport, _ samples: [LoadSample], _ seconds: Double) -> LimiterReport {
        var report = report
        report.requests = samples.count
        report.seconds = seconds
        return report
    }
}

/// A probe's answers as they arrive, to decide when it has seen enough.
private final class SampleLog: Sendable {
    private let state = Mutex<[LoadSample]>([])

    /// Adds `sample`; true when the probe may stop: three clumps of a window, or 60 requests
    /// accepted evenly over at least 3 s, or 2 s without a 429 (the rate is too low).
    func add(_ sample: LoadSample, since start: Double) -> Bool {
        state.withLock { samples in
            samples.append(sample)
            guard samples.count % 16 == 0 else { return false }
            let ordered = samples.sorted { $0.sent < $1.sent }
            let span = (ordered.last?.sent ?? start) - start
            if span >= 2, !ordered.contains(where: \.throttled) { return true }
            let clumps = LimiterInference.clumps(ordered)
            // Two periods of a window: three clumps at a regular period.
            if LimiterInference.looksLikeWindow(clumps) { return true }
            // A bucket accepts one request at a time, evenly.
            return span >= 3 && ordered.filter(\.accepted).count >= 60
                && LimiterInference.spreadEvenly(ordered, from: start, span: span)
        }
    }
}

/// Answers that were neither accepted nor a 429, counted as they arrive.
private final class FailureCount: Sendable {
    private let value = Atomic<Int>(0)

    /// Counts `sample` if it failed; returns the failures so far.
    func count(_ sample: LoadSample) -> Int {
        guard !sample.accepted, !sample.throttled else { return value.load(ordering: .relaxed) }
        return value.add(1, ordering: .relaxed).newValue
    }
}
