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
/// absorbs timer lateness without drift.
///
/// **Rate `r`.** With budget headers (limit `L`, remaining `R`, window end `E`, window length `W`):
/// `r = clamp(R / (E − now), 0, catchUpFactor × L/W)`, which spreads what is left of the window over
/// the time left. Without them, AIMD: slow start adds 1 request/s per success (doubling each
/// second); the first 429 halves `r`; later 429s multiply it by `decreaseFactor`, and each success
/// adds `increasePerSecond × r₀ / r` (so `r` grows by `increasePerSecond × r₀` per second, where
/// `r₀` is the rate at the last decrease). One decrease per throttle event: a 429 for a request
/// admitted before the previous decrease is part of that same event.
///
/// **Window ledger.** An answer to permit `k` that says `R` remaining means at most
/// `R − (admitted after k)` remain for us now: every request admitted after `k` may not be counted
/// yet. Admissions decrement it; at 0 nothing goes until `E`. At `E` the window rolls: `R = L`,
/// `E += W`, unconfirmed until a fresh answer (one to a request admitted after the roll) arrives.
/// Within a confirmed window `E` only moves earlier (`min`), which narrows whole-second resets such
/// as Genesys's to the true boundary.
///
/// **Throttling.** A 429 (or a 503 with `Retry-After`) pauses every sender until
/// `now + min(Retry-After ?? reset ?? defaultPause, maximumPause)`, and pacing resumes from there.
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
    private(set) var aimdRate: Double
    private var rateAtDecrease: Double
    private var nextSlot: Instant
    private(set) var pausedUntil: Instant?
    private(set) var window: Window?
    private var nextSequence: UInt64 = 0
    /// Permits numbered below this were admitted before the last decrease.
    private var decreaseSequence: UInt64 = 0
    /// Permits numbered below this were admitted before the window last rolled.
    private var rollSequence: UInt64 = 0
    private var throttled = 0
    private var pauses = 0

    public init(configuration: RateLimiterConfiguration = .init(), now: Instant) {
        self.configuration = configuration
        aimdRate = configuration.initialRate
        rateAtDecrease = configuration.initialRate
        nextSlot = now
    }

    /// The pace in requests per second at `now`.
    public func rate(at now: Instant) -> Double {
        var rate: Double
        if mode == .headers, let window {
            let ceiling = configuration.catchUpFactor * Double(window.limit) / max(window.length.seconds, 1e-3)
            let left = (window.end - now).seconds
            rate = left > 0 ? min(Double(window.remaining) / left, ceiling) : ceiling
            if window.remaining <= 0 { rate = ceiling }  // the gate holds requests; pace only what follows
        } else {
            rate = aimdRate
        }
        if let maximum = configuration.maximumRate { rate = min(rate, maximum) }
        return max(rate, configuration.minimumRate)
    }

    /// The earliest instant at which the next request may go; `now` or later.
    public mutating func earliestAdmission(now: Instant) -> Instant {
        rollWindow(now: now)
        var earliest = max(now, nextSlot)
        if let pausedUntil, pausedUntil > earliest { earliest = pausedUntil }
        if let window, window.remaining <= 0, window.end > earliest { earliest = window.end }
        return earliest
    }

    /// Takes a permit if one may go at `now`, else returns nil and changes nothing that matters.
    public mutating func admit(now: Instant) -> RateLimitPermit? {
        guard earliestAdmission(now: now) <= now else { return nil }
        let interval = Duration.seconds(1 / rate(at: now))
        nextSlot = max(nextSlot, now - interval) + interval
        window?.remaining -= 1
        defer { nextSequence += 1 }
        return RateLimitPermit(sequence: nextSequence)
    }

    /// Learns from the answer to `permit`.
    /// - Parameters:
    ///   - status: the HTTP status, or nil when the request failed without an answer.
    ///   - observation: the rate-limit headers of that answer.
    ///   - now: when the answer arrived.
    public mutating func record(
        _ permit: RateLimitPermit, status: Int?, observation: RateLimitObservation, now: Instant
    ) {
        guard let status else { return }
        if observation.hasBudget {
            mode = .headers
            learn(observation, from: permit, now: now)
        }
        let throttle = status == 429 || (status == 503 && observation.retryAfter != nil)
        if throttle {
            throttled += 1
            pause(observation: observation, permit: permit, now: now)
        } else if status < 500, mode != .headers {
            grow()
        }
    }

    /// What has been learned so far.
    public func snapshot(now: Instant) -> RateLimiterSnapshot {
        RateLimiterSnapshot(
            mode: mode, limit: window?.limit, windowSeconds: window?.length.seconds, family: window?.family,
            rate: rate(at: now), admitted: nextSequence, throttled: throttled, pauses: pauses)
    }

    // MARK: - Private

    private mutating func learn(_ observation: RateLimitObservation, from permit: RateLimitPermit, now: Instant) {
        guard let limit = observation.limit, let serverRemaining = observation.remaining,
            let reset = observation.resetAfter
        else { return }
        let admittedSince = Int(clamping: nextSequence &- 1 &- permit.sequence)
        let remaining = max(0, serverRemaining - admittedSince)
        let end = now + reset
        guard var window else {
            let length = observation.window ?? max(reset, .seconds(1))
            self.window = Window(
                limit: limit, remaining: remaining, end: end, length: length, confirmed: true,
                family: observation.family)
            return
        }
        window.limit = limit
        window.family = observation.family
        window.length = observation.window ?? max(window.length, reset)
        if window.confirmed {
            let sameWindow = end < window.end + window.length / 2
            if sameWindow {
                window.end = min(window.end, end)
            } else {
                window.end = end
            }
            window.remaining = remaining
        } else if permit.sequence >= rollSequence {
            // The first answer to a request sent after the roll describes the new window.
            window.end = end
            window.remaining = remaining
            window.confirmed = true
        }
        self.window = window
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

    private mutating func pause(observation: RateLimitObservation, permit: RateLimitPermit, now: Instant) {
        var delay = observation.retryAfter ?? configuration.defaultPause
        if observation.retryAfter == nil, observation.remaining == 0, let reset = observation.resetAfter {
            delay = reset
        }
        delay = min(delay, configuration.maximumPause)
        let until = now + delay
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
        let factor = mode == .congestionAvoidance ? configuration.decreaseFactor : 0.5
        aimdRate = max(configuration.minimumRate, aimdRate * factor)
        rateAtDecrease = aimdRate
        decreaseSequence = nextSequence
        mode = .congestionAvoidance
    }

    private mutating func grow() {
        switch mode {
        case .probing, .slowStart:
            mode = .slowStart
            aimdRate += 1
        case .congestionAvoidance:
            aimdRate += configuration.increasePerSecond * rateAtDecrease / max(aimdRate, 1e-3)
        case .headers:
            break
        }
        if let maximum = configuration.maximumRate { aimdRate = min(aimdRate, maximum) }
        aimdRate = min(aimdRate, 1_000_000)
    }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    var seconds: Double {
        let (whole, atto) = components
        return Double(whole) + Double(atto) * 1e-18
    }
}
