import Convoy
import ConvoyMock
import Testing

/// A server's wait that is too long is capped, and every long pause is there to announce.
@Suite(.timeLimit(.minutes(1))) struct LongPauseTests {
    static let minute = RateLimiterConfiguration(initialRate: 100, maximumPause: .seconds(60))

    @Test func anEndlessRetryAfterIsCappedAndNotedOnceForAllTheAnswersThatAskIt() {
        var state = RateLimiterState<Instant>(configuration: Self.minute, now: at(0))
        let permits = (0..<3).map { state.admit(now: at($0 * 10))! }
        let endless = RateLimitObservation(retryAfter: .seconds(999_999_999))
        state.record(permits[0], status: 429, observation: endless, now: at(100))
        #expect(state.earliestAdmission(now: at(100)) == at(60_000), "capped at the maximum pause from its send")
        let notice = state.snapshot(now: at(100)).longPause
        #expect(
            notice == LongPause(requested: .seconds(999_999_999), applied: .seconds(60), source: .retryAfter, number: 1)
        )
        #expect(notice?.isCapped == true)
        // Every request in flight gets the same 429: one pause, one notice.
        state.record(permits[1], status: 429, observation: endless, now: at(110))
        state.record(permits[2], status: 429, observation: endless, now: at(120))
        #expect(state.snapshot(now: at(120)).longPause?.number == 1)
        // After the pause, the next one is a new notice.
        let resume = state.earliestAdmission(now: at(60_000))
        let later = state.admit(now: resume)!
        state.record(later, status: 429, observation: RateLimitObservation(retryAfter: .seconds(30)), now: at(60_050))
        #expect(state.snapshot(now: at(60_050)).longPause?.number == 2)
        #expect(state.snapshot(now: at(60_050)).longPause?.isCapped == false)
    }

    @Test func shortWaitsAndOrdinaryWindowEndsAreNotNoted() {
        var state = RateLimiterState<Instant>(configuration: Self.minute, now: at(0))
        let first = state.admit(now: at(0))!
        state.record(first, status: 429, observation: RateLimitObservation(retryAfter: .seconds(3)), now: at(50))
        #expect(state.snapshot(now: at(50)).longPause == nil, "3 s is a pause, not news")
        let second = state.admit(now: at(3000))!
        // The budget spent with 45 s to go: the window's end, as Genesys's headers say every minute.
        state.record(second, status: 200, observation: genesys(remaining: 0, limit: 300, reset: 45), now: at(3050))
        #expect(state.snapshot(now: at(3050)).longPause == nil)
        #expect(state.earliestAdmission(now: at(3050)) == at(48_000))
    }

    @Test func aResetBeyondTheCapIsCappedAndNoted() {
        var state = RateLimiterState<Instant>(configuration: Self.minute, now: at(0))
        let first = state.admit(now: at(0))!
        // X-RateLimit-Reset 1e12 read as epoch seconds: tens of thousands of years away.
        state.record(first, status: 200, observation: genesys(remaining: 0, limit: 100, reset: 1e12), now: at(40))
        #expect(state.earliestAdmission(now: at(40)) == at(60_000))
        #expect(state.snapshot(now: at(40)).longPause?.source == .reset)
        #expect(state.snapshot(now: at(40)).longPause?.isCapped == true)
    }
}
