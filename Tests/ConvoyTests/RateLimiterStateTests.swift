import Convoy
import ConvoyMock
import Testing

typealias Instant = ManualClock.Instant

func at(_ milliseconds: Int) -> Instant { Instant(offset: .milliseconds(milliseconds)) }

func genesys(remaining: Int, limit: Int, reset: Double, retryAfter: Double? = nil) -> RateLimitObservation {
    RateLimitObservation(
        limit: limit, remaining: remaining, resetAfter: .seconds(reset), retryAfter: retryAfter.map { .seconds($0) },
        family: .genesys)
}

@Suite(.timeLimit(.minutes(1))) struct RateLimiterStateTests {
    /// Admits as fast as the state allows from `start` until `end`, returning the admission times.
    static func drain(_ state: inout RateLimiterState<Instant>, from start: Instant, until end: Instant) -> [Instant] {
        var now = start
        var times: [Instant] = []
        while true {
            now = state.earliestAdmission(now: now)
            guard now < end else { return times }
            #expect(state.admit(now: now) != nil)
            times.append(now)
        }
    }

    @Test func spreadsTheRemainingBudgetAcrossTheWindow() {
        var state = RateLimiterState<Instant>(now: at(0))
        let first = state.admit(now: at(0))!
        state.record(first, status: 200, observation: genesys(remaining: 9, limit: 10, reset: 1), now: at(0))
        let times = Self.drain(&state, from: at(0), until: at(1000))
        #expect(times.count == 9, "exactly the 9 remaining requests go in the window")
        let gaps = zip(times.dropFirst(), times).map { $0.1.duration(to: $0.0) }
        #expect(gaps.allSatisfy { $0 >= .milliseconds(80) }, "paced evenly, not a burst: \(gaps)")
        #expect(state.earliestAdmission(now: times.last!) >= at(1000), "the 11th waits for the reset")
    }

    @Test func countsRequestsSentAfterTheAnsweredOneAsSpent() {
        var state = RateLimiterState<Instant>(configuration: .init(initialRate: 1000), now: at(0))
        let permits = (0..<5).map { i in state.admit(now: at(i * 10))! }
        // The server counted permit 0 and says 3 remain; permits 1...4 may not be counted yet.
        state.record(permits[0], status: 200, observation: genesys(remaining: 3, limit: 10, reset: 2), now: at(50))
        #expect(
            state.earliestAdmission(now: at(50)) == at(2000),
            "3 − 4 sent since ≤ 0: wait for the reset, 2 s after permit 0 was sent")
    }

    @Test func anAnswerOlderThanTheNewestReadIsIgnored() {
        var state = RateLimiterState<Instant>(configuration: .init(initialRate: 1000), now: at(0))
        let permits = (0..<3).map { i in state.admit(now: at(i * 10))! }
        // The newest request says the window is spent until 2 s after it was sent (at 20 ms)...
        state.record(permits[2], status: 200, observation: genesys(remaining: 0, limit: 10, reset: 2), now: at(40))
        #expect(state.earliestAdmission(now: at(40)) == at(2020))
        // ...then the oldest, answered late, reports the budget as it was before the others counted.
        state.record(permits[0], status: 200, observation: genesys(remaining: 8, limit: 10, reset: 2), now: at(60))
        #expect(state.earliestAdmission(now: at(60)) == at(2020), "a stale answer must not reopen the window")
        #expect(state.admit(now: at(60)) == nil)
    }

    @Test func oneThrottlePausesEverySenderThenPaces() {
        var state = RateLimiterState<Instant>(configuration: .init(initialRate: 100), now: at(0))
        let permit = state.admit(now: at(0))!
        // Sent at 0, answered at 0.5 s: Retry-After counts from when the server saw it.
        state.record(permit, status: 429, observation: RateLimitObservation(retryAfter: .seconds(2)), now: at(500))
        #expect(state.earliestAdmission(now: at(500)) == at(2000))
        #expect(state.admit(now: at(1999)) == nil)
        #expect(state.admit(now: at(2000)) != nil)
        #expect(state.earliestAdmission(now: at(2000)) > at(2000), "after a pause requests leave one at a time")
        #expect(state.snapshot(now: at(2000)).pauses == 1)
        #expect(state.snapshot(now: at(2000)).throttled == 1)
    }

    @Test func retryAfterIsCapped() {
        var state = RateLimiterState<Instant>(configuration: .init(maximumPause: .seconds(60)), now: at(0))
        let permit = state.admit(now: at(0))!
        state.record(permit, status: 503, observation: RateLimitObservation(retryAfter: .seconds(86_400)), now: at(0))
        #expect(state.earliestAdmission(now: at(0)) == at(60_000))
    }

    @Test func withoutHeadersSlowStartThenBracketTheAcceptedRate() {
        var state = RateLimiterState<Instant>(configuration: .init(initialRate: 10), now: at(0))
        var now = at(0)
        var admissions: [Instant] = []
        for _ in 0..<30 {
            now = state.earliestAdmission(now: now)
            let permit = state.admit(now: now)!
            admissions.append(now)
            now = now.advanced(by: .milliseconds(50))  // answered 50 ms later
            state.record(permit, status: 200, observation: RateLimitObservation(), now: now)
        }
        #expect(state.snapshot(now: now).mode == .slowStart)
        let grown = state.snapshot(now: now).rate
        let lastSecond = admissions.filter { now.duration(to: $0) > .seconds(-1) }.count
        #expect(grown > 20, "slow start doubles per round trip: \(grown)")
        #expect(grown <= 2.5 * Double(lastSecond), "but stays near twice the achieved rate (\(lastSecond)/s): \(grown)")

        now = state.earliestAdmission(now: now)
        let early = state.admit(now: now)!
        now = state.earliestAdmission(now: now)
        let sameEvent = state.admit(now: now)!
        state.record(early, status: 429, observation: RateLimitObservation(retryAfter: .seconds(1)), now: now)
        #expect(state.snapshot(now: now).rate == grown / 2, "the first 429 falls back to half the slow-start rate")
        #expect(state.snapshot(now: now).mode == .congestionAvoidance)
        state.record(sameEvent, status: 429, observation: RateLimitObservation(retryAfter: .seconds(1)), now: now)
        #expect(state.snapshot(now: now).rate == grown / 2, "a request sent before the decrease is the same event")
        #expect(state.snapshot(now: now).throttled == 2)
    }

    @Test func withoutHeadersSettlesJustBelowTheServersLimit() {
        // A server that throttles any pace above 12/s. Each quiet step runs 3 s at the limiter's
        // rate; a probe period is 5 s (five times the 1 s Retry-After), so the rate moves every
        // other quiet step.
        var state = RateLimiterState<Instant>(configuration: .init(initialRate: 40), now: at(0))
        var now = at(0)
        var events = 0
        var rates: [Double] = []
        for _ in 0..<40 {
            now = state.earliestAdmission(now: now)
            let rate = state.snapshot(now: now).rate
            rates.append(rate)
            let permit = state.admit(now: now)!
            if rate > 12 {
                events += 1
                state.record(permit, status: 429, observation: RateLimitObservation(retryAfter: .seconds(1)), now: now)
            } else {
                now = now.advanced(by: .seconds(3))
                state.record(permit, status: 200, observation: RateLimitObservation(), now: now)
            }
        }
        let late = rates.suffix(20)
        // Six events walk down from 40/s (×0.9 each), two more narrow the bracket; after that only
        // the periodic re-probe (every 8 quiet periods) goes above the limit.
        #expect(late.filter { $0 > 12 }.count <= 4, "rarely probes above the limit once found: \(late)")
        #expect(late.filter { $0 >= 11.5 && $0 <= 12 }.count >= 14, "holds within 4 % below the limit: \(late)")
        #expect(events <= 12, "few throttle events: \(events), rates \(rates)")
    }

    @Test func aProbesQuietPeriodDoesNotGrowWithTheTimeSinceTheLast429() {
        // A server that throttles any pace above 12/s, with a 1 s Retry-After. Each probe above it
        // draws its 429 at once, after a quiet stretch at the rate below: the time between 429s
        // is long, the time each too-high rate ran is not. The probe period stays 5 s (five
        // Retry-Afters), so the rate moves every other 3 s step until the bracket closes.
        var state = RateLimiterState<Instant>(configuration: .init(initialRate: 40), now: at(0))
        var now = at(0)
        var changes: [(at: Double, rate: Double)] = []
        var last = state.snapshot(now: now).rate
        while now < at(200_000) {
            now = state.earliestAdmission(now: now)
            let rate = state.snapshot(now: now).rate
            if rate != last { changes.append((now.offset.seconds, rate)) }
            last = rate
            let permit = state.admit(now: now)!
            if rate > 12 {
                state.record(permit, status: 429, observation: RateLimitObservation(retryAfter: .seconds(1)), now: now)
            } else {
                now = now.advanced(by: .seconds(3))
                state.record(permit, status: 200, observation: RateLimitObservation(), now: now)
            }
        }
        let opening = changes.prefix(13)
        let gaps = zip(opening.dropFirst(), opening).map { $0.0.at - $0.1.at }
        let summary = changes.map { "\(Int($0.at)) s: \($0.rate)" }
        // Six events walk down from 40/s (×0.9 each), then the bracket closes in seven more changes,
        // each at most two 3 s steps after the one before. Counting the time between 429s, which
        // holds each quiet stretch, the period doubled at every probe: 16 s, then 33 s.
        #expect(gaps.allSatisfy { $0 <= 7 }, "the bracket closes at one probe period per step: \(summary)")
        #expect(
            opening.last.map { $0.rate >= 11.9 && $0.rate <= 12 } == true,
            "and holds the highest quiet rate, not 1 % below it: \(summary)")
        // The hold reopens the bracket after 16 quiet periods of 6 s.
        #expect(
            changes.contains { $0.at > 100 && $0.at < 140 && $0.rate > 12 }, "a re-probe after the hold: \(summary)")
    }

    @Test func wholeSecondResetsNarrowToTheBoundary() {
        var state = RateLimiterState<Instant>(configuration: .init(initialRate: 1000), now: at(0))
        let a = state.admit(now: at(1000))!
        let b = state.admit(now: at(1010))!
        // The server rounds the time to its reset up to whole seconds: 1 s for both answers, so
        // a (sent at 1.0 s) bounds the boundary by 2.0 s and b (sent at 1.01 s) by 2.01 s.
        state.record(a, status: 200, observation: genesys(remaining: 50, limit: 100, reset: 1), now: at(1050))
        state.record(b, status: 200, observation: genesys(remaining: 0, limit: 100, reset: 1), now: at(1500))
        #expect(state.earliestAdmission(now: at(1500)) == at(2000), "the earlier bound wins within a window")
    }

    @Test func answersFromBeforeARollDoNotDescribeTheNewWindow() {
        var state = RateLimiterState<Instant>(configuration: .init(initialRate: 1000), now: at(0))
        let first = state.admit(now: at(0))!
        state.record(first, status: 200, observation: genesys(remaining: 5, limit: 10, reset: 1), now: at(10))
        let late = state.admit(now: at(990))!  // sent just before the boundary at 1 s
        let next = state.earliestAdmission(now: at(1000))
        #expect(next < at(1100) && state.admit(now: next) != nil, "the window rolled at 1 s")
        // The answer to `late` was counted in the old window; it must not stop the new one.
        state.record(late, status: 200, observation: genesys(remaining: 0, limit: 10, reset: 0.01), now: next)
        #expect(state.earliestAdmission(now: next) < at(1200))
    }

    @Test func maximumRateCapsThePace() {
        var state = RateLimiterState<Instant>(configuration: .init(maximumRate: 2, slack: .zero), now: at(0))
        let first = state.admit(now: at(0))!
        state.record(first, status: 200, observation: genesys(remaining: 999, limit: 1000, reset: 1), now: at(0))
        let times = Self.drain(&state, from: at(0), until: at(2001))
        #expect(times == [at(500), at(1000), at(1500), at(2000)], "2 per second")
    }

    @Test func aRequestMayLeaveUpToTheSlackEarlyWithoutChangingTheRate() {
        var state = RateLimiterState<Instant>(configuration: .init(maximumRate: 2), now: at(0))
        _ = state.admit(now: at(0))!
        let times = Self.drain(&state, from: at(0), until: at(2001))
        #expect(times == [at(498), at(998), at(1498), at(1998)], "2 ms early, still 2 per second")
        // A pause is never anticipated.
        let permit = state.admit(now: state.earliestAdmission(now: at(2500)))!
        state.record(permit, status: 429, observation: RateLimitObservation(retryAfter: .seconds(1)), now: at(2500))
        #expect(state.earliestAdmission(now: at(3000)) == at(3500), "sent at 2.5 s, Retry-After 1 s")
    }

    @Test func limitChangesAreLearnedFromTheNextAnswer() {
        var state = RateLimiterState<Instant>(configuration: .init(initialRate: 1000), now: at(0))
        let first = state.admit(now: at(0))!
        state.record(first, status: 200, observation: genesys(remaining: 99, limit: 100, reset: 1), now: at(0))
        #expect(state.snapshot(now: at(0)).learnedRate == 100)
        let second = state.admit(now: state.earliestAdmission(now: at(0)))!
        state.record(second, status: 200, observation: genesys(remaining: 40, limit: 50, reset: 1), now: at(20))
        #expect(state.snapshot(now: at(20)).learnedRate == 50)
        let times = Self.drain(&state, from: at(20), until: at(1000))
        #expect(times.count <= 40)
    }

    @Test func aPaceSlowedByOthersEndsAtTheWindowBoundary() {
        var state = RateLimiterState<Instant>(configuration: .init(initialRate: 1000), now: at(0))
        let first = state.admit(now: at(0))!
        state.record(first, status: 200, observation: genesys(remaining: 99, limit: 100, reset: 1), now: at(0))
        // Another client on the budget spent 68 of it in 0.3 s: its pace (capped at 100/s) is trusted.
        let second = state.admit(now: at(300))!
        state.record(second, status: 200, observation: genesys(remaining: 30, limit: 100, reset: 1), now: at(300))
        // At 550 ms about 5 remain for 0.45 s: the pace is a tenth of that spread, about 1/s...
        #expect(state.admit(now: at(550)) != nil)
        let next = state.earliestAdmission(now: at(560))
        // ...but it must not carry into the next window, where the whole budget is new.
        #expect(next <= at(1100), "the next request waits for the boundary and a tenth of a window, not \(next)")
    }

    @Test func transportFailuresLeaveThePaceAsTheAnswersSetIt() {
        var state = RateLimiterState<Instant>(configuration: .init(initialRate: 10), now: at(0))
        var now = at(0)
        for _ in 0..<20 {  // slow start, from answers
            now = state.earliestAdmission(now: now)
            let permit = state.admit(now: now)!
            state.record(
                permit, status: 200, observation: RateLimitObservation(), now: now.advanced(by: .milliseconds(50)))
        }
        let before = state.snapshot(now: now)
        for _ in 0..<10 {  // a run of resets and refused connections
            now = state.earliestAdmission(now: now)
            state.abandon(state.admit(now: now)!)
        }
        let after = state.snapshot(now: now)
        #expect(after.rate == before.rate, "a transport failure is not a throttle: \(before.rate) → \(after.rate)")
        #expect(after.pauses == 0 && after.throttled == 0 && after.mode == before.mode)
        #expect(state.earliestAdmission(now: now) <= now.advanced(by: .seconds(1 / before.rate)), "no pause after them")
    }
}
