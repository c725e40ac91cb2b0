import Foundation

/// The rate limiter's decisions, as a pure state machine over a clock's instants.
///
/// It owns no timers and never sleeps: ``RateLimiter`` asks it when the next request may go
/// (``earliestAdmission(now:)``), takes a permit when that time has come (``admit(now:)``) and feeds
/// every answer back (``record(_:status:observation:now:)``). That keeps every decision testable
/// with plain instants.
///
/// **Pacing (GCRA).** A request may go at `max(now, nextSlot, pausedUntil, windowGate)`, and each
/// admission moves `nextSlot = max(nextSlot, now − 1/r) + 1/r`. Requests leave one at a time,
/// `1/r` apart, so a reset or the end of a pause never releases a herd; one interval of tolerance
/// absorbs timer lateness without drift, and a request may leave up to `slack` (2 ms) before its
/// slot, so one timer wake-up can release the few due within it when `1/r` is below the timers'
/// resolution. The pause and the window gate are never anticipated.
///
/// **Rate `r`.** With budget headers (limit `L`, remaining `R`, window end `E`, window length `W`):
/// `s = R / (E − now)` spreads what is left of the window over the time left, and
/// `r = clamp(max(s − O/2, s/10), 0, catchUpFactor × L/W)`, where `O` is other clients' pace on the
/// same budget (below). Without them, slow start adds `1/latency` per success (doubling each round
/// trip, capped at twice the rate measured over the last 100 ms) until the first 429; from then
/// on ``RateSearch`` finds the limit from the 429s and settles just below it. A probe period is
/// `max(2 s, 5 × the longest Retry-After, 2 × the longest a rate ran before its 429, up to 30 s)` where
/// 429s name a wait, enough to span more than one of the server's windows, else
/// `max(2 s, 100 / r)`. One throttle event per decrease: a 429 for a request admitted before the
/// previous decrease is part of that same event. Either way `r` is kept within
/// `[minimumRate, maximumRate]`, the user's ceiling winning.
///
/// **The last window.** Pacing evenly costs nothing while the work outlasts the window: the run
/// cannot end before the window that its last request falls in. Once the requests the run still
/// has to send (``expect(requests:now:)``, less those in flight) fit in what the window has left,
/// `W ≤ R − O × (E − now) + ⌈L/50⌉` (the tolerance covers the few requests the ledger errs low
/// by), and the answers have shown no other client on the budget (under 3 requests of others',
/// decayed, over 4 compared answers and 0.25 s: processes that start together on one budget would
/// each take it for their own), they go as fast as concurrency allows:
/// the run ends at the earliest moment the limit allows, in the window itself, instead of spread
/// to its end. With more work than budget, or work unknown (standard input, discovery still
/// going), pacing is as above: no herd at a boundary.
///
/// **Other clients.** Between two answers of one window, the server's count grows by what it
/// counted: ours (the permits admitted between the two) and others'. `O = others ÷ sending time`,
/// both sums decayed by `exp(−Δt / max(W, 1 s))`, differences signed and carried so that our own
/// requests counted out of order cancel; `O` counts once it rests on `W/4` of sending time, and
/// never exceeds `L/W`. The pace reads the remaining as `R − O × (now − sent(newest))` and takes
/// half of `O` off: a fixed point at `s / (1 + (N − 1)/2)` for N clients doing the same, unique and
/// symmetric, so they split the budget fairly and together still spend it by `E`. The gate at
/// `R = 0` stays our own count: a guess must not stop the answers that would correct it. A pace
/// slowed near the end of a window holds the next request at most `W/10` past the boundary.
///
/// **Window ledger.** An answer to permit `k` that says `R` remaining means at most
/// `R − (admitted after k)` remain for us now: every request admitted after `k` may not be counted
/// yet. Its reset `T` places the boundary at `E = sent(k) + T` in our own sending time: a request
/// sent at `E` reaches the server as late after sending as `k` did, so at the boundary.
/// Admissions decrement `R`; at 0 nothing goes until `E`. At `E` the window rolls: `R = L`,
/// `E += W`, unconfirmed until a fresh answer (one to a request admitted after the roll) arrives.
/// While the server's remaining keeps falling it is the same window, and `E` only moves earlier
/// (`min`), which narrows whole-second resets such as Genesys's to the true boundary; a remaining
/// that rises means a new window (or a refilled bucket), whose answer is taken as it is. Answers
/// older than the newest one read are ignored.
///
/// **Throttling.** A 429 (or a 503 with `Retry-After`) pauses every sender until
/// `sent + min(P, maximumPause)`, in sending time like the window boundary, where `P` is the
/// `Retry-After`, else the reset when the answer says nothing remains, else (without budget
/// headers) one interval `1/r`, what one excess request costs a bucket, else `defaultPause`;
/// pacing resumes from there one request at a time. A reset is capped at `maximumPause` too, so no
/// header value can hold the run longer; a capped pause, or a `Retry-After` of 10 s or more, is
/// kept as the snapshot's ``LongPause`` for the front end to announce.
public struct RateLimiterState<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    struct Window: Sendable {
        var limit: Int
        var remaining: Int
        var end: Instant
        var length: Duration
        var confirmed: Bool
        var family: RateLimitObservation.Family?
    }

    public let configuration: RateLimiterConfiguration
    private(set) var mode: RateLimiterSnapshot.Mode = .probing
    /// Slow start's rate, and the rate before any answer.
    private var slowStartRate: Double
    /// Without budget headers, after the first 429.
    private var search: RateSearch<Instant>?
    /// The longest `Retry-After` seen: a hint of the server's window.
    private var longestRetryAfter: Duration = .zero
    /// Without budget headers: the longest a rate ran before it drew a 429 (up to 30 s). A window's
    /// 429s may come only every other window (the first after a pause is short), so a quiet period
    /// must outlast that run, not only the `Retry-After`. (Not the time between events: that
    /// includes the quiet periods before a probe, and would double the period at every probe.)
    private var longestRun: Duration = .zero
    /// Smoothed time from admission to answer (EWMA, weight 1/8).
    private var latency: Duration?
    /// Admissions counted since `meterStart`, and the rate measured over the last 100 ms or more.
    private var meterCount = 0
    private var meterStart: Instant
    private var measuredRate: Double = 0
    private var nextSlot: Instant
    private(set) var pausedUntil: Instant?
    private(set) var window: Window?
    private var nextSequence: UInt64 = 0
    /// When each permit still in flight was admitted.
    private var admittedAt: [UInt64: Instant] = [:]
    /// Permits numbered below this were admitted before the last decrease.
    private var decreaseSequence: UInt64 = 0
    /// Permits numbered below this were admitted before the window last rolled.
    private var rollSequence: UInt64 = 0
    /// The newest answered permit whose headers were read, and the remaining it reported.
    private var latestObserved: (sequence: UInt64, remaining: Int, sentAt: Instant?) = (0, .max, nil)
    /// Other clients' spending of the same budget: requests the server counted that were not ours,
    /// and the sending time they were counted over, both decayed with a time constant of one window;
    /// `balance` carries a negative difference (our requests counted out of order) forward.
    private var others: (count: Double, seconds: Double, balance: Int) = (0, 0, 0)
    private var throttled = 0
    private var pauses = 0
    /// Requests the run has yet to complete, in flight included, when it knows (``expect(requests:now:)``).
    private var workRemaining: Int?
    /// The latest pause worth announcing (``LongPause``), and when it ends in sending time.
    private var longPause: LongPause?
    private var longPauseEnd: Instant?

    public init(configuration: RateLimiterConfiguration = .init(), now: Instant) {
        self.configuration = configuration
        slowStartRate = configuration.initialRate
        nextSlot = now
        meterStart = now
    }

    /// The pace in requests per second at `now`.
    public func rate(at now: Instant) -> Double {
        var rate: Double
        if mode == .headers, let window {
            let ceiling = configuration.catchUpFactor * Double(window.limit) / max(window.length.seconds, 1e-3)
            let left = (window.end - now).seconds
            // What is left is shared: leave other clients their pace (each Convoy on the budget
            // doing the same, N of them settle at 1/N each), but never yield it all.
            let remaining = self.remaining(window, at: now)
            let spread = left > 0 ? remaining / left : ceiling
            rate = left > 0 ? min(max(spread - 0.5 * othersRate, spread * 0.1), ceiling) : ceiling
            if remaining <= 0 { rate = ceiling }  // the gate holds requests; pace only what follows
        } else if let search {
            rate = search.rate
        } else {
            rate = slowStartRate
        }
        // The floor keeps a pace from stalling; the user's ceiling wins over it.
        return min(max(rate, configuration.minimumRate), configuration.maximumRate ?? .infinity)
    }

    /// The earliest instant at which the next request may go; `now` or later.
    public mutating func earliestAdmission(now: Instant) -> Instant {
        rollWindow(now: now)
        // Up to `slack` early: a timer cannot wake every 0.3 ms, and one wake-up may release the
        // few requests due within it. `nextSlot` still advances 1/r per admission, so r holds.
        var earliest = max(now, nextSlot - configuration.slack)
        if let pausedUntil, pausedUntil > earliest { earliest = pausedUntil }
        // The gate is our own count: a guess at others' spending must not close it, since nothing
        // would then be sent to correct the guess.
        if let window, window.remaining <= 0, window.end > earliest { earliest = window.end }
        return earliest
    }

    /// Takes a permit if one may go at `now`, else returns nil and changes nothing that matters.
    public mutating func admit(now: Instant) -> RateLimitPermit? {
        guard earliestAdmission(now: now) <= now else { return nil }
        var interval = Duration.seconds(1 / rate(at: now))
        // A pace holds only within its window: the next one brings a new budget and a new pace. So
        // the next request waits at most a tenth of a window past the boundary, not the seconds that
        // a pace slowed near the end of a window (others' spending left little) would give. Not at
        // the boundary itself: there every client's held request would go at once, and a boundary
        // estimated a little early would turn them into 429s.
        if mode == .headers, let window, window.end > now {
            interval = min(interval, window.end - now + window.length / 10)
        }
        if finishesInWindow(at: now) { interval = .zero }
        nextSlot = max(nextSlot, now - interval) + interval
        window?.remaining -= 1
        admittedAt[nextSequence] = now
        meterCount += 1
        if now - meterStart >= .milliseconds(100) {
            measuredRate = Double(meterCount) / (now - meterStart).seconds
            meterCount = 0
            meterStart = now
        }
        defer { nextSequence += 1 }
        return RateLimitPermit(sequence: nextSequence)
    }

    /// Tells how many requests the run has yet to complete, those admitted and not yet answered
    /// included, or nil when that is unknown. What is still to send is that less the requests in
    /// flight, so admissions count themselves off until the next call.
    public mutating func expect(requests: Int?, now: Instant) {
        workRemaining = requests.map { max(0, $0) }
        // The last window starts now: the slot booked at the old pace is not waited for.
        if finishesInWindow(at: now) { nextSlot = min(nextSlot, now) }
    }

    /// True when what the run still has to send fits in what the current window has left, after
    /// other clients' expected spending: the last window, to be spent at once.
    public func finishesInWindow(at now: Instant) -> Bool {
        guard mode == .headers, let window, window.confirmed, window.end > now, let work = workRemaining else {
            return false
        }
        // Several processes on one budget would each take what is left for their own (4 bursting
        // together drew up to 10 % 429s): the last window is spent at once only by a client alone.
        guard seemsAlone else { return false }
        let othersToCome = othersRate * (window.end - now).seconds
        let toSend = work - admittedAt.count
        return Double(toSend) <= remaining(window, at: now) - othersToCome + Double(lastWindowTolerance(window))
    }

    /// How many requests past the window's budget may still count as fitting in it: the ledger
    /// errs low by the few requests answers counted out of order (it must: it gates), so work that
    /// equals the budget would otherwise never look as if it fit. What does not fit waits at the
    /// gate for the boundary, a handful paced after it, not a herd. `⌈limit/50⌉`.
    private func lastWindowTolerance(_ window: Window) -> Int {
        (window.limit + 49) / 50
    }

    /// Forgets a permit whose request got no answer.
    public mutating func abandon(_ permit: RateLimitPermit) {
        admittedAt[permit.sequence] = nil
    }

    /// Gives back a permit whose request was never sent: its place in the window's count returns
    /// (the pacing slot does not; the next request simply goes at the pace).
    public mutating func refund(_ permit: RateLimitPermit) {
        guard admittedAt.removeValue(forKey: permit.sequence) != nil else { return }
        if permit.sequence >= rollSequence, var window {
            window.remaining = min(window.limit, window.remaining + 1)
            self.window = window
        }
    }

    /// Learns from the answer to `permit`.
    /// - Parameters:
    ///   - status: the HTTP status, or nil when the request failed without an answer (same as ``abandon(_:)``).
    ///   - observation: the rate-limit headers of that answer.
    ///   - now: when the answer arrived.
    public mutating func record(
        _ permit: RateLimitPermit, status: Int?, observation: RateLimitObservation, now: Instant
    ) {
        let sentAt = admittedAt.removeValue(forKey: permit.sequence) ?? now
        guard let status else { return }
        if observation.hasBudget {
            mode = .headers
            learn(observation, from: permit, sentAt: sentAt)
        }
        let throttle = status == 429 || (status == 503 && observation.retryAfter != nil)
        if throttle {
            throttled += 1
            pause(observation: observation, permit: permit, sentAt: sentAt, now: now)
        } else if status < 500 {
            switch mode {
            case .probing, .slowStart:
                // Doubling once per round trip, like TCP's slow start, but never past twice the
                // rate actually achieved: when concurrency is the bottleneck, the pace must not run away.
                mode = .slowStart
                let roundTrip = now - sentAt
                latency = latency.map { $0 * 0.875 + roundTrip * 0.125 } ?? roundTrip
                let step = 1 / max(latency?.seconds ?? 1, 0.001)
                let ceiling = max(configuration.initialRate, 2 * measuredRate)
                slowStartRate = max(slowStartRate, min(slowStartRate + step, ceiling))
                slowStartRate = min(slowStartRate, configuration.maximumRate ?? 1_000_000)
            case .congestionAvoidance:
                let period = probePeriod(at: now)
                search?.accepted(sentAt: sentAt, now: now, period: period)
            case .headers:
                break
            }
        }
    }

    /// What has been learned so far.
    public func snapshot(now: Instant) -> RateLimiterSnapshot {
        RateLimiterSnapshot(
            mode: mode, limit: window?.limit, windowSeconds: window?.length.seconds, family: window?.family,
            rate: rate(at: now), admitted: nextSequence, throttled: throttled, pauses: pauses, longPause: longPause)
    }

    // MARK: - Private

    /// How long a rate must run without a 429 before the search raises it: where 429s name a wait,
    /// 5 × the longest `Retry-After` and 2 × the longest a rate ran before its 429 (a quiet
    /// period must span more than a window, whatever the phase of the pauses, and 429s that come
    /// every other window must not fit inside one); else 100 requests (a bucket's 429 costs one
    /// request); never less than 2 s.
    private func probePeriod(at now: Instant) -> Duration {
        longestRetryAfter > .zero && search?.estimate == nil
            ? max(.seconds(2), longestRetryAfter * 5, longestRun * 2)
            : max(.seconds(2), .seconds(100 / rate(at: now)))
    }

    private mutating func learn(_ observation: RateLimitObservation, from permit: RateLimitPermit, sentAt: Instant) {
        guard let limit = observation.limit, let serverRemaining = observation.remaining,
            let statedReset = observation.resetAfter
        else { return }
        let admittedSince = Int(clamping: nextSequence &- 1 &- permit.sequence)
        let remaining = max(0, serverRemaining - admittedSince)
        // A reset beyond the longest pause (a year away, an epoch misread) is capped like one.
        if serverRemaining == 0 { noteLongPause(requested: statedReset, source: .reset, sentAt: sentAt) }
        let reset = min(statedReset, configuration.maximumPause)
        // The reset counts from when the server saw the request. Our next requests reach it as late
        // after they are sent as this one did, so the boundary, in our own sending time, is sentAt + reset.
        let end = sentAt + reset
        guard var window else {
            let length = observation.window ?? max(reset, .seconds(1))
            self.window = Window(
                limit: limit, remaining: remaining, end: end, length: length, confirmed: true,
                family: observation.family)
            latestObserved = (permit.sequence, serverRemaining, sentAt)
            return
        }
        // An older request answered late says nothing newer about the budget.
        guard permit.sequence >= latestObserved.sequence else { return }
        let limitBefore = window.limit
        window.limit = limit
        window.family = observation.family
        window.length = observation.window ?? max(window.length, reset)
        defer { self.window = window }
        defer { latestObserved = (permit.sequence, serverRemaining, sentAt) }
        if !window.confirmed {
            // Only an answer to a request sent after the roll describes the new window.
            guard permit.sequence >= rollSequence else { return }
            window.confirmed = true
        } else if serverRemaining <= latestObserved.remaining {
            // The same window (its count only grows): every answer bounds the boundary from above.
            window.end = min(window.end, end)
            window.remaining = remaining
            if limitBefore == limit {
                countOthers(
                    spent: latestObserved.remaining - serverRemaining,
                    ours: Int(permit.sequence - latestObserved.sequence), from: latestObserved.sentAt, to: sentAt,
                    window: window)
            }
            return
        }
        // A new window, or a bucket that refilled: the latest answer describes it.
        window.end = end
        window.remaining = remaining
    }

    /// Between two answers of one window the server counted `spent` requests, `ours` of them
    /// admitted here (those admitted after the earlier answered one, up to the later): the rest is
    /// another client on the same budget.
    /// Differences are signed and carried: our own requests reaching the server out of order make
    /// one pair look short and the next long, which cancels instead of counting as someone else.
    private mutating func countOthers(spent: Int, ours: Int, from start: Instant?, to end: Instant, window: Window) {
        guard let start, end > start else { return }
        let span = (end - start).seconds
        let decay = exp(-span / max(window.length.seconds, 1))
        let balance = others.balance + spent - ours
        let counted = max(0, balance)
        others = (others.count * decay + Double(counted), others.seconds * decay + span, balance - counted)
        othersCompared += 1
    }

    /// Answer pairs compared for other clients' spending: the last window waits for a few, so that
    /// several processes starting together on one budget do not each take it for their own.
    private var othersCompared = 0

    /// True once enough answers have shown nobody else spending the budget: under 3 requests of
    /// others' (decayed; our own answers out of order leave a few) over at least 4 compared pairs
    /// and a quarter second of sending time. Four processes starting together on one budget show
    /// far more by then (quick runs: 0 429s, where a bare count drew up to 10 %).
    private var seemsAlone: Bool { othersCompared >= 4 && others.seconds >= 0.25 && others.count < 3 }

    /// The window's remaining at `now`: ours counted at admission, other clients' estimated from
    /// their pace since the newest answer was sent.
    private func remaining(_ window: Window, at now: Instant) -> Double {
        let since = latestObserved.sentAt.map { max(0, (now - $0).seconds) } ?? 0
        return Double(window.remaining) - (window.confirmed ? othersRate * since : 0)
    }

    /// Requests per second that other clients spend from this budget (0 when alone): trusted once it
    /// rests on a quarter of a window of sending time, and never more than the whole budget's pace.
    var othersRate: Double {
        guard let window, others.seconds >= window.length.seconds / 4 else { return 0 }
        return min(others.count / others.seconds, Double(window.limit) / max(window.length.seconds, 1e-3))
    }

    private mutating func rollWindow(now: Instant) {
        guard var window, now >= window.end else { return }
        let length = max(window.length, .milliseconds(1))
        repeat { window.end = window.end + length } while window.end <= now
        window.remaining = window.limit
        window.confirmed = false
        rollSequence = nextSequence
        self.window = window
    }

    /// Records a pause the server asked for when it is long enough to announce. Several answers
    /// asking for the same pause (every request in flight gets the 429) make one notice.
    private mutating func noteLongPause(requested: Duration, source: LongPause.Source, sentAt: Instant) {
        let applied = min(requested, configuration.maximumPause)
        // A reset that nothing remains until is the window's ordinary end: worth a word only when capped.
        guard requested > applied || (source == .retryAfter && applied >= LongPause.announced) else { return }
        if let longPauseEnd, sentAt < longPauseEnd { return }  // the pause announced is still on
        longPause = LongPause(
            requested: requested, applied: applied, source: source, number: (longPause?.number ?? 0) + 1)
        longPauseEnd = sentAt + applied
    }

    private mutating func pause(
        observation: RateLimitObservation, permit: RateLimitPermit, sentAt: Instant, now: Instant
    ) {
        var delay = observation.retryAfter ?? configuration.defaultPause
        if observation.retryAfter == nil, observation.remaining == 0, let reset = observation.resetAfter {
            delay = reset
        } else if observation.retryAfter == nil, mode != .headers {
            // A leaky or token bucket that names no wait: one excess request costs one interval. A
            // limiter whose 429s keep coming too close together to measure is a window that names
            // no wait: then back off from `defaultPause`, doubling.
            let streak = search?.unmeasuredStreak ?? 0
            delay =
                streak < RateSearch<Instant>.unmeasuredLimit
                ? .seconds(1 / rate(at: now))
                : configuration.defaultPause * Double(1 << min(streak - RateSearch<Instant>.unmeasuredLimit, 4))
        }
        if let retryAfter = observation.retryAfter {
            noteLongPause(requested: retryAfter, source: .retryAfter, sentAt: sentAt)
        } else if observation.remaining == 0, let reset = observation.resetAfter {
            noteLongPause(requested: reset, source: .reset, sentAt: sentAt)
        }
        delay = min(delay, configuration.maximumPause)
        if let retryAfter = observation.retryAfter {
            longestRetryAfter = max(longestRetryAfter, min(retryAfter, configuration.maximumPause))
        }
        // Like a reset, Retry-After counts from when the server saw the request (see the ledger).
        let until = sentAt + delay
        if pausedUntil.map({ until > $0 }) ?? true {
            if pausedUntil.map({ $0 <= now }) ?? true { pauses += 1 }
            pausedUntil = until
        }
        nextSlot = max(nextSlot, until)
        if var window {
            window.remaining = 0
            window.end = max(until, now)
            window.confirmed = false
            self.window = window
            rollSequence = nextSequence
        }
        guard mode != .headers, permit.sequence >= decreaseSequence else { return }
        if let run = search?.ran(until: sentAt), run > .zero {
            longestRun = min(max(longestRun, run), .seconds(30))
        }
        if search == nil {
            search = RateSearch(throttledAt: rate(at: now), sentAt: sentAt, resumeAt: until)
        } else {
            let factor = configuration.decreaseFactor
            search?.throttled(
                sentAt: sentAt, resumeAt: until, named: observation.retryAfter != nil, decreaseFactor: factor)
        }
        decreaseSequence = nextSequence
        mode = .congestionAvoidance
    }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    public var seconds: Double {
        let (whole, atto) = components
        return Double(whole) + Double(atto) * 1e-18
    }
}
