/// Finds the highest rate that a server without budget headers accepts, by bracketing it between
/// 429s, so that the limiter can settle just below it instead of sawing through it.
///
/// Invariant: `low` is the highest rate that ran a whole probe period without a 429, `high` the
/// lowest rate that drew one, and `low < high`. After each quiet period at `rate`, `low = rate`
/// and the next probe is the midpoint `(low + high) / 2`, or `1.25 × low` while no 429 has bounded
/// it. A 429 on a probe (`rate > low`) sets `high = rate` and falls back to `low`. A 429 at or
/// below `low` means the limit moved below it: `low = decreaseFactor × rate`, or only
/// `(1 − tolerance) × rate` when it struck while holding. Once `high ≤ low × (1 + tolerance)` it
/// holds `(1 − tolerance) × low`, a margin for the phase of the server's windows, and every
/// `holdPeriods` quiet periods it reopens the bracket by 5 % to notice a raised limit.
///
/// Each probe costs at most one throttle event, so a 10 % bracket narrows to 2 % in about three.
struct RateSearch<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    static var tolerance: Double { 0.02 }
    static var holdPeriods: Int { 8 }

    private(set) var low: Double
    private(set) var high: Double?
    /// The rate to pace at now.
    private(set) var rate: Double
    private var since: Instant
    private var quietHolds = 0

    /// Starts the search after slow start's first 429 at `rate`: the previous round, at half the
    /// rate, went through.
    init(throttledAt rate: Double, resumeAt: Instant) {
        low = rate / 2
        high = rate
        self.rate = rate / 2
        since = resumeAt
    }

    /// True when the bracket is narrow enough to hold.
    var converged: Bool { high.map { $0 <= low * (1 + Self.tolerance) } ?? false }

    /// An answer that was not throttled arrived at `now`; `period` is how long a rate must run
    /// quietly before it counts as accepted.
    mutating func accepted(now: Instant, period: Duration) {
        guard now - since >= period else { return }
        since = now
        low = max(low, rate)
        if converged {
            quietHolds += 1
            if quietHolds >= Self.holdPeriods, let bound = high {
                high = bound * 1.05
                quietHolds = 0
            }
        }
        if converged {
            rate = low * (1 - Self.tolerance)
        } else if let high {
            rate = (low + high) / 2
        } else {
            rate = low * 1.25
        }
    }

    /// A new throttle event struck while pacing at `rate`; sending resumes at `resumeAt`.
    mutating func throttled(resumeAt: Instant, decreaseFactor: Double) {
        if rate > low {
            // A probe above the accepted rate: it bounds the search from above.
            high = min(high ?? rate, rate)
        } else {
            // The accepted rate itself drew a 429: the limit moved below it. A step of the
            // tolerance when holding (noise at the edge), of `decreaseFactor` otherwise.
            let factor = converged ? 1 - Self.tolerance : decreaseFactor
            high = rate
            low = rate * factor
        }
        rate = low
        since = resumeAt
        quietHolds = 0
    }
}
