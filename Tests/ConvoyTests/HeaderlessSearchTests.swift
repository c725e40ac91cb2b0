import Convoy
import ConvoyMock
import Testing

/// The limiter against servers that say nothing but 429, simulated over minutes of traffic
/// (`LimiterSimulation`: 100 ms latency, 16 requests in flight, measured after the first minute).
@Suite(.timeLimit(.minutes(1))) struct HeaderlessSearchTests {
    @Test(arguments: [
        LimiterSimulation.Server.leakyBucket(rate: 100, burst: 10),
        .leakyBucket(rate: 100, burst: 2),
        .leakyBucket(rate: 20, burst: 5),
        .leakyBucket(rate: 50, burst: 1),
        .leakyBucket(rate: 100, burst: 100),
    ])
    func aLeakyBucketIsHeldAtItsRateWithFew429s(server: LimiterSimulation.Server) {
        let result = LimiterSimulation(server: server).run(seconds: 300, measureFrom: 60)
        let summary = "goodput \(result.goodput), 429s \(result.throttledShare), pace every 10 s \(result.rates)"
        #expect(result.goodput >= 0.97, "\(summary)")
        #expect(result.throttledShare <= 0.01, "\(summary)")
    }

    @Test(arguments: [
        LimiterSimulation.Server.fixedWindow(limit: 300, window: 3), .fixedWindow(limit: 100, window: 1),
    ])
    func aFixedWindowIsBracketedBetween429s(server: LimiterSimulation.Server) {
        // Whole-second Retry-After: each probe above the limit costs up to a second's pause, so the
        // bracket holds 1 % below and probes rarely.
        let result = LimiterSimulation(server: server).run(seconds: 300, measureFrom: 60)
        let summary = "goodput \(result.goodput), 429s \(result.throttledShare), pace every 10 s \(result.rates)"
        #expect(result.goodput >= 0.97, "\(summary)")
        #expect(result.throttledShare <= 0.01, "\(summary)")
    }

    @Test func aRaisedLimitIsFoundAndALoweredOneFollowed() {
        var raised = LimiterSimulation(server: .leakyBucket(rate: 50, burst: 5))
        raised.change = (at: 60, server: .leakyBucket(rate: 100, burst: 5))
        let up = raised.run(seconds: 160, measureFrom: 100)
        #expect(up.goodput >= 0.93, "from 40 s after the raise: \(up.goodput), \(up.rates)")
        var lowered = LimiterSimulation(server: .leakyBucket(rate: 100, burst: 5))
        lowered.change = (at: 60, server: .leakyBucket(rate: 50, burst: 5))
        let down = lowered.run(seconds: 120, measureFrom: 70)
        #expect(down.throttledShare <= 0.01, "10 s after the cut: \(down.throttledShare), \(down.rates)")
        #expect(down.goodput >= 0.97)
    }

    @Test func aWindowWhose429sNameNoWaitIsBackedOffNotHammered() {
        // Every 429 until the window ends would be a new event if each cost only one interval.
        let result = LimiterSimulation(server: .plainWindow(limit: 300, window: 3)).run(seconds: 300, measureFrom: 60)
        let summary = "goodput \(result.goodput), 429s \(result.throttledShare), pace every 10 s \(result.rates)"
        #expect(result.goodput >= 0.85, "\(summary)")
        #expect(result.throttledShare <= 0.05, "\(summary)")
    }

    @Test(arguments: [1, 2, 4])
    func clientsOnOneBudgetSplitItWithout429Storms(clients: Int) {
        // Genesys headers: every client sees the budget fall faster than its own requests explain.
        // Latencies vary by ±30 %, so each client's own requests also reach the server out of order.
        var shared = LimiterSimulation(server: .genesys(limit: 300, window: 3))
        shared.clients = clients
        shared.jitter = 0.3
        let result = shared.run(seconds: 150, measureFrom: 30)
        let summary = "goodput \(result.goodput), 429s \(result.throttledShare), by client \(result.acceptedByClient)"
        #expect(result.goodput >= 0.95, "\(summary)")
        #expect(result.throttledShare <= 0.01, "\(summary)")
        let fair = Double(result.accepted) / Double(clients)
        #expect(result.acceptedByClient.allSatisfy { Double($0) >= 0.7 * fair }, "\(summary)")
    }

    @Test func a429WithoutRetryAfterCostsOneIntervalNotASecond() {
        var state = RateLimiterState<Instant>(configuration: .init(initialRate: 100), now: at(0))
        let permit = state.admit(now: at(0))!
        state.record(permit, status: 429, observation: RateLimitObservation(), now: at(100))
        #expect(state.earliestAdmission(now: at(100)) <= at(110), "no pause of a second")
        #expect(state.snapshot(now: at(100)).rate < 100, "the pace stepped down")
    }
}
