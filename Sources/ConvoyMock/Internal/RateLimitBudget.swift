/// The budget as reported in headers after one decision.
struct BudgetSnapshot: Equatable {
    /// Window budget (fixed window) or capacity (token bucket).
    var limit: Int
    /// Requests counted in the current window, this one included when admitted (fixed window), or
    /// `limit − remaining` (token bucket).
    var used: Int
    /// `max(0, limit − used)`.
    var remaining: Int
    /// Until the window resets (fixed window) or the bucket is full again (token bucket).
    var nanosecondsUntilReset: Int64
    /// The window length, or `capacity / refillPerSecond` for a token bucket.
    var windowNanoseconds: Int64
}

/// The outcome of offering one request to the budget.
struct RateLimitDecision: Equatable {
    var admitted: Bool
    var snapshot: BudgetSnapshot
    /// For a rejected request: `Retry-After` in whole seconds, rounded up and at least 1; nil for a limiter that
    /// sends none (the leaky bucket). 0 when admitted.
    var retryAfterSeconds: Int64?
    /// How long an admitted request waits in a queue before it is served (the queueing leaky bucket).
    var queueNanoseconds: Int64 = 0
    /// For a request the leaky bucket (gcra) rejected: how long until it would admit one. 0 otherwise.
    var untilAdmissionNanoseconds: Int64 = 0
}

/// Server-side rate limiting state. Time is passed in as nanoseconds since the server started, so the logic is
/// deterministic and testable without sleeping.
struct RateLimitBudget {
    /// Longest reset/retry time ever reported (a bucket that never refills): one day.
    static let maximumWaitNanoseconds: Int64 = 86_400_000_000_000

    private(set) var limit: MockRateLimit
    /// `externalLoadPerWindow`, clamped to `0...1`.
    let externalLoad: Double

    // Fixed window: the index of the current window and the requests counted in it.
    private var windowIndex: Int64 = 0
    private var used = 0
    // Token bucket: tokens left at `lastRefill`.
    private var tokens: Double = 0
    private var lastRefill: Int64 = 0
    // Leaky bucket: the theoretical arrival time of the next request.
    private var theoreticalArrival: Int64 = 0
    // Sliding window: the admission times within the last window, oldest first (from `head`).
    private var admissions: [Int64] = []
    private var head = 0

    init(limit: MockRateLimit, externalLoad: Double, now: Int64) {
        self.limit = limit
        self.externalLoad = externalLoad.isFinite ? min(max(externalLoad, 0), 1) : 0
        reset(now: now)
    }

    /// Offers one request arriving at `now`; an admitted request consumes budget, a rejected one does not.
    mutating func admit(now: Int64) -> RateLimitDecision {
        switch limit {
        case .fixedWindow(let windowLimit, let window):
            let length = Self.windowLength(window)
            advanceWindow(now: now, length: length, limit: windowLimit)
            let untilReset = (windowIndex + 1) * length - now
            let admitted = used < windowLimit
            if admitted { used += 1 }
            let snapshot = BudgetSnapshot(
                limit: max(0, windowLimit), used: used, remaining: max(0, windowLimit - used),
                nanosecondsUntilReset: untilReset, windowNanoseconds: length)
            return RateLimitDecision(
                admitted: admitted, snapshot: snapshot,
                retryAfterSeconds: admitted ? 0 : max(1, ceilSeconds(untilReset)))

        case .tokenBucket(let capacity, let refillPerSecond):
            refill(now: now, capacity: capacity, refillPerSecond: refillPerSecond)
            // A hair of tolerance so that e.g. exactly one second at 1 token/s yields a whole token.
            let admitted = tokens >= 1 - 1e-9
            if admitted { tokens = max(0, tokens - 1) }
            let rate = netRefillPerSecond(refillPerSecond)
            let remaining = min(max(0, capacity), Int((tokens + 1e-9).rounded(.down)))
            let snapshot = BudgetSnapshot(
                limit: max(0, capacity), used: max(0, capacity) - remaining, remaining: remaining,
                nanosecondsUntilReset: Self.nanoseconds(toGain: Double(capacity) - tokens, at: rate),
                windowNanoseconds: Self.nanoseconds(toGain: Double(capacity), at: refillPerSecond))
            let retry = admitted ? 0 : max(1, ceilSeconds(Self.nanoseconds(toGain: 1 - tokens, at: rate)))
            return RateLimitDecision(admitted: admitted, snapshot: snapshot, retryAfterSeconds: retry)

        case .leakyBucket(let ratePerSecond, let burst):
            let interval = Self.interval(ratePerSecond)
            let tolerance = Int64(max(0, burst)) * interval
            let admitted = theoreticalArrival - now <= tolerance
            if admitted { theoreticalArrival = max(theoreticalArrival, now) + interval }
            let backlog = max(0, theoreticalArrival - now)
            let remaining = Int(max(0, tolerance - backlog + interval) / interval)
            let snapshot = BudgetSnapshot(
                limit: max(0, burst) + 1, used: max(0, burst) + 1 - remaining, remaining: remaining,
                nanosecondsUntilReset: backlog, windowNanoseconds: tolerance + interval)
            return RateLimitDecision(
                admitted: admitted, snapshot: snapshot, retryAfterSeconds: admitted ? 0 : nil,
                untilAdmissionNanoseconds: admitted ? 0 : theoreticalArrival - tolerance - now)

        case .slidingWindow(let windowLimit, let window):
            let length = Self.windowLength(window)
            while head < admissions.count, admissions[head] <= now - length { head += 1 }
            if head > 1024, head * 2 > admissions.count {
                admissions.removeFirst(head)
                head = 0
            }
            let admitted = admissions.count - head < windowLimit
            if admitted { admissions.append(now) }
            let used = admissions.count - head
            let untilOldestLeaves = head < admissions.count ? admissions[head] + length - now : 0
            let snapshot = BudgetSnapshot(
                limit: max(0, windowLimit), used: used, remaining: max(0, windowLimit - used),
                nanosecondsUntilReset: untilOldestLeaves, windowNanoseconds: length)
            return RateLimitDecision(
                admitted: admitted, snapshot: snapshot,
                retryAfterSeconds: admitted ? 0 : max(1, ceilSeconds(untilOldestLeaves)))

        case .leakyQueue(let ratePerSecond, let burst):
            let interval = Self.interval(ratePerSecond)
            let wait = max(0, theoreticalArrival - now)
            let admitted = wait <= Int64(max(0, burst)) * interval
            if admitted { theoreticalArrival = max(theoreticalArrival, now) + interval }
            let backlog = max(0, theoreticalArrival - now)
            let remaining = Int(max(0, Int64(max(0, burst)) * interval - backlog + interval) / interval)
            let snapshot = BudgetSnapshot(
                limit: max(0, burst) + 1, used: max(0, burst) + 1 - remaining, remaining: remaining,
                nanosecondsUntilReset: backlog, windowNanoseconds: Int64(max(0, burst) + 1) * interval)
            return RateLimitDecision(
                admitted: admitted, snapshot: snapshot, retryAfterSeconds: admitted ? 0 : nil,
                queueNanoseconds: admitted ? wait : 0)
        }
    }

    /// Switches to `newLimit` at `now`, carrying state over where it still means something:
    /// fixed window → fixed window keeps the requests already counted (until the next boundary of the new window
    /// length, still measured from server start); token bucket → token bucket keeps the tokens (clamped to the new
    /// capacity). A change of kind starts fresh: a new window count, or a full bucket.
    mutating func update(to newLimit: MockRateLimit, now: Int64) {
        switch (limit, newLimit) {
        case (.fixedWindow(_, let oldWindow), .fixedWindow(let newWindowLimit, let newWindow)):
            advanceWindow(now: now, length: Self.windowLength(oldWindow), limit: newWindowLimit)
            limit = newLimit
            windowIndex = now / Self.windowLength(newWindow)
        case (.tokenBucket(let oldCapacity, let oldRate), .tokenBucket(let newCapacity, _)):
            refill(now: now, capacity: oldCapacity, refillPerSecond: oldRate)
            limit = newLimit
            tokens = min(tokens, Double(max(0, newCapacity)))
        default:
            limit = newLimit
            reset(now: now)
        }
    }

    private mutating func reset(now: Int64) {
        switch limit {
        case .fixedWindow(let windowLimit, let window):
            windowIndex = now / Self.windowLength(window)
            used = externalUsage(limit: windowLimit)
        case .tokenBucket(let capacity, _):
            tokens = Double(max(0, capacity))
            lastRefill = now
        case .leakyBucket, .leakyQueue:
            theoreticalArrival = now
        case .slidingWindow:
            admissions = []
            head = 0
        }
    }

    /// `1 / ratePerSecond` in nanoseconds, at least 1 ns (a rate of 0 or less admits one request a day).
    private static func interval(_ ratePerSecond: Double) -> Int64 {
        guard ratePerSecond.isFinite, ratePerSecond > 0 else { return maximumWaitNanoseconds }
        return max(1, Int64((1e9 / ratePerSecond).rounded()))
    }

    private mutating func advanceWindow(now: Int64, length: Int64, limit windowLimit: Int) {
        let index = now / length
        if index != windowIndex {
            windowIndex = index
            used = externalUsage(limit: windowLimit)
        }
    }

    private func externalUsage(limit windowLimit: Int) -> Int {
        Int((externalLoad * Double(max(0, windowLimit))).rounded(.down))
    }

    private mutating func refill(now: Int64, capacity: Int, refillPerSecond: Double) {
        let elapsed = max(0, now - lastRefill)
        lastRefill = max(lastRefill, now)
        let gained = Double(elapsed) / 1e9 * netRefillPerSecond(refillPerSecond)
        tokens = min(Double(max(0, capacity)), tokens + gained)
    }

    /// Refill rate after the simulated other client's continuous drain: `(1 − externalLoad) · refillPerSecond`.
    private func netRefillPerSecond(_ refillPerSecond: Double) -> Double {
        guard refillPerSecond.isFinite, refillPerSecond > 0 else { return 0 }
        return refillPerSecond * (1 - externalLoad)
    }

    private static func windowLength(_ window: Duration) -> Int64 {
        max(1_000_000, window.clampedNanoseconds)
    }

    /// Time to gain `amount` tokens at `rate` tokens per second, capped at ``maximumWaitNanoseconds``.
    private static func nanoseconds(toGain amount: Double, at rate: Double) -> Int64 {
        guard amount > 1e-9 else { return 0 }
        guard rate > 0 else { return maximumWaitNanoseconds }
        let value = (amount / rate * 1e9).rounded(.up)
        return value >= Double(maximumWaitNanoseconds) ? maximumWaitNanoseconds : Int64(value)
    }
}
