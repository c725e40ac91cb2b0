import Testing

@testable import ConvoyMock

/// The limiter with synthetic time (nanoseconds since server start), no sleeping.
@Suite("RateLimitBudget", .timeLimit(.minutes(1)))
struct RateLimitBudgetTests {
    private let second: Int64 = 1_000_000_000

    @Test("fixed window: limit admitted, then 429 until the boundary; 429s consume nothing")
    func fixedWindow() {
        var budget = RateLimitBudget(limit: .fixedWindow(limit: 3, window: .seconds(10)), externalLoad: 0, now: 0)
        for count in 1...3 {
            let decision = budget.admit(now: 2 * second)
            #expect(decision.admitted)
            #expect(
                decision.snapshot
                    == BudgetSnapshot(
                        limit: 3, used: count, remaining: 3 - count,
                        nanosecondsUntilReset: 8 * second, windowNanoseconds: 10 * second))
        }
        for _ in 0..<5 {
            let rejected = budget.admit(now: 2 * second + 500_000_000)
            #expect(!rejected.admitted)
            #expect(rejected.retryAfterSeconds == 8)  // 7.5 s rounded up
            #expect(rejected.snapshot.used == 3)
            #expect(rejected.snapshot.remaining == 0)
        }
        // Just before the boundary the wait rounds up to 1 s; at the boundary the window resets.
        #expect(budget.admit(now: 10 * second - 1).retryAfterSeconds == 1)
        let next = budget.admit(now: 10 * second)
        #expect(next.admitted && next.snapshot.used == 1 && next.snapshot.nanosecondsUntilReset == 10 * second)
    }

    @Test("leaky bucket: burst + 1 at once, then one per interval; 429s name no Retry-After and cost nothing")
    func leakyBucket() {
        // 10 per second (one per 100 ms), bursts of 2 beyond that.
        var budget = RateLimitBudget(limit: .leakyBucket(ratePerSecond: 10, burst: 2), externalLoad: 0, now: 0)
        #expect((0..<3).allSatisfy { _ in budget.admit(now: 0).admitted })
        let rejected = budget.admit(now: 0)
        #expect(!rejected.admitted && rejected.retryAfterSeconds == nil)
        #expect(rejected.snapshot.remaining == 0 && rejected.snapshot.limit == 3)
        // TAT is now 300 ms: the next request fits once TAT − t ≤ 200 ms, at t = 100 ms.
        #expect(!budget.admit(now: second / 10 - 1).admitted)
        #expect(budget.admit(now: second / 10).admitted)
        // A steady pace at the rate is always admitted; above it, the excess is refused.
        var steady = RateLimitBudget(limit: .leakyBucket(ratePerSecond: 10, burst: 0), externalLoad: 0, now: 0)
        #expect((0..<50).allSatisfy { steady.admit(now: Int64($0) * second / 10).admitted })
        let fast = (0..<50).filter { steady.admit(now: 5 * second + Int64($0) * second / 20).admitted }.count
        #expect(fast == 25, "twice the rate: half admitted")
    }

    @Test("sliding window: at most L in any span of W, no boundary burst; Retry-After until the oldest leaves")
    func slidingWindow() {
        var budget = RateLimitBudget(limit: .slidingWindow(limit: 3, window: .seconds(1)), externalLoad: 0, now: 0)
        for at in [0, 400, 800] { #expect(budget.admit(now: Int64(at) * second / 1000).admitted) }
        let refused = budget.admit(now: 900 * second / 1000)
        #expect(!refused.admitted && refused.retryAfterSeconds == 1 && refused.snapshot.remaining == 0)
        #expect(refused.snapshot.nanosecondsUntilReset == second / 10, "the admission at 0 leaves at 1 s")
        // At 1 s the first admission has left; at 1.1 s the window (0.1 s, 1.1 s] holds 400, 800 and 1000.
        #expect(budget.admit(now: second).admitted)
        #expect(!budget.admit(now: 1100 * second / 1000).admitted, "no burst at a boundary: it has none")
        #expect(budget.admit(now: 1400 * second / 1000).admitted)
    }

    @Test("leaky queue: burst + 1 accepted at once, the k-th held (k − 1) intervals; the rest refused at once")
    func leakyQueue() {
        var budget = RateLimitBudget(limit: .leakyQueue(ratePerSecond: 10, burst: 2), externalLoad: 0, now: 0)
        let waits = (0..<3).map { _ in budget.admit(now: 0) }
        #expect(waits.allSatisfy { $0.admitted })
        #expect(waits.map(\.queueNanoseconds) == [0, second / 10, 2 * second / 10])
        let refused = budget.admit(now: 0)
        #expect(!refused.admitted && refused.retryAfterSeconds == nil && refused.queueNanoseconds == 0)
        // One leaves every 100 ms: at 100 ms a place is free again, with a 200 ms wait.
        let next = budget.admit(now: second / 10)
        #expect(next.admitted && next.queueNanoseconds == 2 * second / 10)
    }

    @Test("fixed window: external load pre-consumes floor(x · limit) at every window start")
    func fixedWindowExternalLoad() {
        var budget = RateLimitBudget(limit: .fixedWindow(limit: 10, window: .seconds(1)), externalLoad: 0.35, now: 0)
        let admitted = (0..<20).filter { _ in budget.admit(now: 100).admitted }.count
        #expect(admitted == 7)  // floor(3.5) = 3 eaten
        let nextWindow = budget.admit(now: second + 1)
        #expect(nextWindow.admitted && nextWindow.snapshot.used == 4)
    }

    @Test("token bucket: starts full, refills continuously, Retry-After until one token")
    func tokenBucket() {
        var budget = RateLimitBudget(limit: .tokenBucket(capacity: 4, refillPerSecond: 2), externalLoad: 0, now: 0)
        for remaining in (0...3).reversed() {
            let decision = budget.admit(now: 0)
            #expect(decision.admitted)
            #expect(decision.snapshot.remaining == remaining)
            #expect(decision.snapshot.used == 4 - remaining)
        }
        let rejected = budget.admit(now: 100_000_000)  // 0.2 tokens
        #expect(!rejected.admitted)
        #expect(rejected.retryAfterSeconds == 1)  // 0.4 s rounded up
        #expect(rejected.snapshot.nanosecondsUntilReset == 1_900_000_000)  // 3.8 tokens at 2/s
        #expect(rejected.snapshot.windowNanoseconds == 2 * second)
        #expect(budget.admit(now: 500_000_000).admitted)  // exactly 1 token
        #expect(!budget.admit(now: 500_000_000).admitted)
        // Never above capacity.
        #expect(budget.admit(now: 100 * second).snapshot.remaining == 3)
    }

    @Test("token bucket: external load drains x · refill continuously")
    func tokenBucketExternalLoad() {
        var budget = RateLimitBudget(limit: .tokenBucket(capacity: 1, refillPerSecond: 1), externalLoad: 0.5, now: 0)
        #expect(budget.admit(now: 0).admitted)
        #expect(!budget.admit(now: second).admitted)  // only 0.5 tokens back
        #expect(budget.admit(now: 2 * second).admitted)
        var drained = RateLimitBudget(limit: .tokenBucket(capacity: 1, refillPerSecond: 1), externalLoad: 1, now: 0)
        #expect(drained.admit(now: 0).admitted)
        let never = drained.admit(now: 3_600 * second)
        #expect(!never.admitted && never.retryAfterSeconds == 86_400)
    }

    @Test("update keeps what still applies and starts fresh otherwise")
    func update() {
        var budget = RateLimitBudget(limit: .fixedWindow(limit: 10, window: .seconds(60)), externalLoad: 0, now: 0)
        for _ in 0..<6 { _ = budget.admit(now: second) }
        budget.update(to: .fixedWindow(limit: 5, window: .seconds(60)), now: 2 * second)
        let halved = budget.admit(now: 3 * second)
        #expect(!halved.admitted && halved.snapshot.used == 6 && halved.snapshot.limit == 5)
        budget.update(to: .fixedWindow(limit: 8, window: .seconds(60)), now: 4 * second)
        #expect(budget.admit(now: 4 * second).snapshot.used == 7)
        #expect(budget.admit(now: 60 * second).snapshot.used == 1)

        budget.update(to: .tokenBucket(capacity: 3, refillPerSecond: 1), now: 61 * second)
        #expect(budget.admit(now: 61 * second).snapshot.remaining == 2)  // fresh, full bucket
        budget.update(to: .tokenBucket(capacity: 1, refillPerSecond: 1), now: 61 * second)
        #expect(budget.admit(now: 61 * second).snapshot.remaining == 0)  // clamped to the new capacity
        #expect(!budget.admit(now: 61 * second).admitted)
    }
}
