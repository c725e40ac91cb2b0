/// Finds the rate that a server without budget headers sustains, from the pattern of its 429s, and
/// holds just below it while probing for a raised limit. The pattern also tells which of two
/// kinds of limiter it faces, and each is searched the way its 429s allow.
///
/// **A bucket (429s without `Retry-After`: leaky or token bucket, as gateways run them).** A 429
/// costs one request, not a pause, and it measures the limit. A throttle event (the first 429 of a
/// burst) means the bucket was full when that request arrived; between two events it went from
/// full to full, so it admitted `R × Δt` (less if it sat empty a while). So
/// `estimate = accepted ÷ Δt`, counting requests by the time they were *sent*, which cancels the
/// latency; it never overstates a steady limit (it understates one that was just raised, which the
/// probes then find). After an event the rate becomes `(1 − margin) × min(rate, estimate)`.
///
/// **A window (429s with `Retry-After`: the boundary is named, and a 429 costs a pause).** The
/// average between events says nothing here (the pauses and the windows' phase dominate it), so the
/// accepted rate is bracketed instead: `low` is the highest rate that ran a whole quiet period
/// without a 429, `high` the lowest that drew one. A 429 above `low` sets `high = rate` and falls
/// back to `low`; a 429 at or below `low` means the limit fell: `low = decreaseFactor × rate`, or
/// `(1 − 3 × tolerance) × rate` when holding. The next probe is `(low + high) ÷ 2`, or
/// `1.25 × low` while nothing bounds it, and once `high ≤ (1 + tolerance) × low` the rate holds
/// `low`, which ran a whole quiet period.
///
/// **Probing, both kinds.** A rate that ran a quiet `period` rises: a bucket's by `step × estimate`,
/// the step doubling (up to 16×) for every quiet period above the estimate, so a raised limit is
/// found in a few periods; a window's hold reopens the bracket by 3 % every `holdPeriods` quiet
/// periods, so a raised limit is noticed within `holdPeriods × period` (80 × the `Retry-After` at
/// the caller's period). The caller sets `period`: short when a 429 costs one request, long when
/// it costs a pause.
struct RateSearch<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// How far below a bucket's estimate the rate holds.
    static var margin: Double { 0.005 }
    /// A bucket's first probe step above its estimate, as a share of it.
    static var step: Double { 0.01 }
    /// Fewer accepted requests than this between two events measure nothing.
    static var minimumSample: Int { 8 }
    /// Events in a row with nothing accepted between them, after which 429s without `Retry-After`
    /// are taken for a closed window's: the state then pauses instead of stepping one interval.
    static var unmeasuredLimit: Int { 3 }
    /// A window's bracket counts as closed when `high ≤ (1 + tolerance) × low`, and then the rate
    /// holds `low`.
    static var tolerance: Double { 0.01 }
    /// Quiet periods a window's hold lasts before it reopens the bracket by 3 %.
    static var holdPeriods: Int { 16 }

    /// The rate to pace at now.
    private(set) var rate: Double
    /// A bucket's rate, measured between the last two events.
    private(set) var estimate: Double?
    /// A window's bracket.
    private(set) var low: Double
    private(set) var high: Double?
    /// When the request behind the last event was sent, and what was accepted (by send time) since.
    private var lastEvent: Instant
    private var acceptedSince = 0
    /// When the current rate was set: a quiet period runs from here.
    private var since: Instant
    /// Quiet periods in a row above a bucket's estimate, or at a window's hold.
    private var quietPeriods = 0
    /// Events in a row with nothing accepted since the previous one: a bucket lets some through
    /// between 429s, a window that is closed lets none.
    private(set) var unmeasuredStreak = 0

    /// Starts after slow start's first 429 at `rate`, drawn by a request sent at `sentAt`: the
    /// previous round trip, at half the rate, went through.
    init(throttledAt rate: Double, sentAt: Instant, resumeAt: Instant) {
        self.rate = rate / 2
        low = rate / 2
        high = rate
        lastEvent = sentAt
        since = resumeAt
    }

    /// How long the current rate had run when a request sent at `sentAt` went: at a 429, how long a
    /// rate too high for the server took to draw one.
    func ran(until sentAt: Instant) -> Duration { sentAt - since }

    /// True once a bucket's limit is measured or a window's bracket has closed.
    var converged: Bool { estimate != nil || high.map { $0 <= low * (1 + Self.tolerance) } ?? false }

    /// A request sent at `sentAt` was accepted, answered at `now`; a rate that ran `period` without
    /// an event rises.
    mutating func accepted(sentAt: Instant, now: Instant, period: Duration) {
        if sentAt >= lastEvent { acceptedSince += 1 }
        guard now - since >= period else { return }
        since = now
        if let estimate {
            if rate >= estimate { quietPeriods += 1 }
            rate += Self.step * estimate * Double(1 << min(quietPeriods, 4))
            return
        }
        low = max(low, rate)
        if converged {
            quietPeriods += 1
            if quietPeriods >= Self.holdPeriods, let bound = high {
                high = bound * 1.03
                quietPeriods = 0
            }
        }
        if converged {
            rate = low
        } else if let high {
            rate = (low + high) / 2
        } else {
            rate = low * 1.25
        }
    }

    /// A new throttle event: the request sent at `sentAt` drew a 429, which named a pause
    /// (`Retry-After`) or not; sending resumes at `resumeAt`.
    mutating func throttled(sentAt: Instant, resumeAt: Instant, named pause: Bool, decreaseFactor: Double) {
        let nothingGotThrough = acceptedSince == 0
        defer {
            // Events with nothing accepted between them are one closure of the limiter: the next
            // measurement runs from the first of them.
            if pause || !nothingGotThrough { lastEvent = max(lastEvent, sentAt) }
            acceptedSince = 0
            since = resumeAt
            quietPeriods = 0
        }
        if !pause {
            let elapsed = (sentAt - lastEvent).seconds
            if elapsed > 0, acceptedSince >= Self.minimumSample {
                unmeasuredStreak = 0
                let measured = Double(acceptedSince) / elapsed
                estimate = measured
                rate = min(rate, measured) * (1 - Self.margin)
            } else {
                rate *= 1 - Self.margin  // too soon to measure: the same limit, struck again
                // Nothing at all got through since the last event: a closed window, not a bucket.
                unmeasuredStreak = nothingGotThrough ? unmeasuredStreak + 1 : 0
            }
            return
        }
        unmeasuredStreak = 0
        if let estimate {
            // The 429s name a wait now: a window after all. Bracket from here.
            low = estimate * (1 - Self.tolerance)
            high = estimate
            self.estimate = nil
        }
        if rate > low {
            high = min(high ?? rate, rate)  // a probe above the accepted rate bounds it from above
        } else {
            // The accepted rate itself drew a 429: the limit fell below it, or the bracket closed
            // on a rate that only seemed quiet. Three tolerances when holding, `decreaseFactor`
            // otherwise.
            let factor = converged ? 1 - 3 * Self.tolerance : decreaseFactor
            high = rate
            low = rate * factor
        }
        rate = low
    }
}
