import Convoy
import ConvoyMock
import Testing

/// The last window is spent at once: when what the run still has to send fits in what the window
/// has left, pacing evenly would only make the run end later.
@Suite(.timeLimit(.minutes(1))) struct LastWindowTests {
    /// A state that has sent five requests one after another, each answer counting only its own
    /// request (so no other client is on the budget): `remaining` of 300 left at the last.
    static func answered(remaining: Int, work: Int?) -> (RateLimiterState<Instant>, Instant) {
        var state = RateLimiterState<Instant>(configuration: .init(initialRate: 5), now: at(0))
        var now = at(0)
        for index in 0..<5 {
            now = state.earliestAdmission(now: now)
            let permit = state.admit(now: now)!
            now = now.advanced(by: .milliseconds(150))
            let observation = genesys(remaining: remaining + 4 - index, limit: 300, reset: 60)
            state.record(permit, status: 200, observation: observation, now: now)
        }
        state.expect(requests: work, now: now)
        return (state, now)
    }

    @Test func aJobThatFitsInTheWindowGoesAtOnce() {
        var (state, now) = Self.answered(remaining: 299, work: 249)
        let times = RateLimiterStateTests.drain(&state, from: now, until: at(60_000))
        #expect(times.prefix(249).allSatisfy { $0 == now }, "none waits for a pace: concurrency alone bounds them")
        // A retry beyond the estimate may still go within the window's budget, never past it.
        #expect(times.count == 299, "the window's budget, and not one request more")
    }

    @Test func moreWorkThanBudgetIsPacedEvenlyUntilTheLastWindow() {
        var (state, now) = Self.answered(remaining: 299, work: 1499)
        var times: [Instant] = []
        for _ in 0..<20 {
            now = state.earliestAdmission(now: now)
            _ = state.admit(now: now)
            times.append(now)
        }
        let gaps = zip(times.dropFirst(), times).map { $0.1.duration(to: $0.0) }
        #expect(gaps.allSatisfy { $0 >= .milliseconds(150) }, "spread across the window: \(gaps.prefix(5))")
        // The work falls to what the window holds: from then on it goes at once.
        state.expect(requests: 200, now: now)
        let rest = RateLimiterStateTests.drain(&state, from: now, until: at(60_000))
        #expect(rest.count == 279 && rest.prefix(200).allSatisfy { $0 == now })
    }

    @Test func unknownWorkIsPacedAsBefore() {
        var (state, now) = Self.answered(remaining: 299, work: nil)
        let first = state.earliestAdmission(now: now)
        _ = state.admit(now: first)
        now = state.earliestAdmission(now: first)
        #expect(first.duration(to: now) >= .milliseconds(150), "evenly: 299 over 60 s")
    }

    @Test func requestsInFlightAreNotStillToSend() {
        var (state, now) = Self.answered(remaining: 100, work: 150)
        // 150 to complete, 100 left: paced. 50 admissions later (none answered yet), 100 are still
        // to send and 50 left: still paced.
        for _ in 0..<50 {
            now = state.earliestAdmission(now: now)
            _ = state.admit(now: now)
        }
        #expect(state.finishesInWindow(at: now) == false, "100 to send, 50 left: still paced")
        // The run learns it has only the 50 in flight and 50 more to complete: those 50 fit.
        state.expect(requests: 100, now: now)
        #expect(state.finishesInWindow(at: now), "50 to send, 50 left: the last window")
    }
}

/// The last window at run scale, on the simulated server.
@Suite(.timeLimit(.minutes(1))) struct LastWindowSimulationTests {
    @Test func fiveWindowsOfWorkEndFourWindowsIn() {
        var simulation = LimiterSimulation(server: .genesys(limit: 300, window: 3))
        simulation.latency = 0.02
        simulation.work = 1500
        let result = simulation.run(seconds: 30)
        let finished = try? #require(result.finishedAt.first ?? nil)
        #expect(result.throttled == 0)
        // Four whole windows, then the fifth's 300 at 16 in flight and 20 ms each (0.4 s).
        #expect((finished ?? .infinity) <= 12 * 1.05, "finished at \(finished ?? -1) s")
    }

    @Test func aJobSmallerThanTheBudgetTakesWhatConcurrencyNeeds() {
        var simulation = LimiterSimulation(server: .genesys(limit: 300, window: 60))
        simulation.latency = 0.15
        simulation.work = 250
        let result = simulation.run(seconds: 120)
        let finished = result.finishedAt.first ?? nil
        // 250 requests, 16 at a time, 150 ms each: 2.4 s; evenly over the window would be 50 s.
        #expect((finished ?? .infinity) <= 1.5 * 250 * 0.15 / 16, "finished at \(finished ?? -1) s")
        #expect(result.throttled == 0)
    }
}

extension LastWindowSimulationTests {
    // At ±60 % latency jitter the ledger errs low by more than the tolerance over four windows, and
    // the run spills into a sixth (15 s): noted in issue 24, not hidden.
    @Test(arguments: [0.0, 0.3])
    func outOfOrderAnswersDoNotHideTheLastWindow(jitter: Double) {
        var simulation = LimiterSimulation(server: .genesys(limit: 300, window: 3))
        simulation.latency = 0.02
        simulation.jitter = jitter
        simulation.work = 1500
        let result = simulation.run(seconds: 30)
        let finished = result.finishedAt.first ?? nil
        #expect((finished ?? .infinity) <= 12 * 1.05, "jitter \(jitter): finished at \(finished ?? -1) s")
    }
}
