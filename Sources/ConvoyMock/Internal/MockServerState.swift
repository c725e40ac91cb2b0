import Synchronization

/// The state shared between the event-loop thread and callers of ``MockAPIServer``: counters and the rate limiter.
/// Everything lives behind one `Mutex`; the loop takes it about twice per request (arrival and send), uncontended
/// except while a caller reads counters or changes the limit.
final class MockServerState: Sendable {
    private struct Guarded {
        var budget: RateLimitBudget?
        var counters = MockCounters()
    }

    /// The server's start instant on `CLOCK_MONOTONIC`; rate-limit windows are measured from here.
    let startNanoseconds: UInt64
    private let externalLoad: Double
    private let guarded: Mutex<Guarded>

    init(rateLimit: MockRateLimit?, externalLoad: Double, startNanoseconds: UInt64) {
        self.startNanoseconds = startNanoseconds
        self.externalLoad = externalLoad
        guarded = Mutex(
            Guarded(budget: rateLimit.map { RateLimitBudget(limit: $0, externalLoad: externalLoad, now: 0) }))
    }

    /// Nanoseconds since the server started for a monotonic reading `now`.
    func elapsed(_ now: UInt64) -> Int64 {
        Int64(bitPattern: now &- startNanoseconds)
    }

    /// Records one parsed request (and a hit for `conversationID`, if any) and, when `rateLimited`, offers it to the
    /// budget at monotonic instant `now`. Returns `nil` when no limit applies.
    func arrive(conversationID: String?, rateLimited: Bool, now: UInt64) -> RateLimitDecision? {
        let elapsed = elapsed(now)
        return guarded.withLock { state in
            state.counters.requests += 1
            if let conversationID { state.counters.hitsByID[conversationID, default: 0] += 1 }
            guard rateLimited else { return nil }
            return state.budget?.admit(now: elapsed)
        }
    }

    /// Records a response with `status` about to be written.
    func recordResponse(status: Int) {
        guarded.withLock { state in
            state.counters.responsesByStatus[status, default: 0] += 1
            if status == 429 { state.counters.tooManyRequests += 1 }
        }
    }

    func recordConnection() {
        guarded.withLock { $0.counters.connectionsAccepted += 1 }
    }

    func counters() -> MockCounters {
        guarded.withLock { $0.counters }
    }

    /// Replaces the limit at monotonic instant `now` (see ``RateLimitBudget/update(to:now:)``); `nil` lifts it.
    func updateRateLimit(_ limit: MockRateLimit?, now: UInt64) {
        let elapsed = elapsed(now)
        guarded.withLock { state in
            guard let limit else {
                state.budget = nil
                return
            }
            if state.budget != nil {
                state.budget?.update(to: limit, now: elapsed)
            } else {
                state.budget = RateLimitBudget(limit: limit, externalLoad: externalLoad, now: elapsed)
            }
        }
    }
}
