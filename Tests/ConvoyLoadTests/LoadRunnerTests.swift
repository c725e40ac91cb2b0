import Convoy
import ConvoyLoad
import ConvoyMock
import Foundation
import Testing

/// A server that takes `delay` on a manual clock to answer.
private final class SlowTransport: HTTPTransport {
    let delay: Duration
    let clock: ManualClock
    init(delay: Duration, clock: ManualClock) {
        self.delay = delay
        self.clock = clock
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await clock.sleep(for: delay)
        return HTTPResponse(status: 200)
    }
}

@Suite(.timeLimit(.minutes(1))) struct LoadRunnerTests {
    @Test func anOpenModelDropsWhatFallsDueWithNoFreeSlotAndRecordsTheRest() async throws {
        let clock = ManualClock()
        let runner = LoadRunner(transport: SlowTransport(delay: .milliseconds(500), clock: clock), clock: clock) { _ in
            (HTTPRequest(url: URL(string: "http://127.0.0.1:1/x")!), 0)
        }
        // 30 requests due over 0.3 s, but only 3 may be out, and each takes 0.5 s. The clock moves by
        // hand, one due time at a time, each once the runner has handled the one before and every
        // request it sent sleeps in the transport: no answer (due at 0.5 s) can come first.
        let run = Task { await runner.run(.constant(rate: 100, duration: 0.3), maxInFlight: 3) }
        for handled in 1...30 {
            try await waitUntil { runner.progress().sent + runner.progress().dropped == handled }
            let runnerSleeps = handled < 30 ? 1 : 0
            try await waitUntil { clock.sleeperCount == runnerSleeps + min(handled, 3) }
            clock.advance(to: handled < 30 ? clock.nextDeadline! : clock.now.advanced(by: .seconds(1)))
        }
        let result = await run.value
        #expect(result.samples.count == 3)
        #expect(result.dropped.count == 27)
        #expect(result.samples.allSatisfy { $0.status == 200 && $0.answered - $0.sent >= 0.5 })
        let summary = LoadSummary(
            samples: result.samples, dropped: result.dropped, elapsed: result.elapsed, schedule: nil)
        #expect(summary.dropped == 27 && summary.sent == 3)
        #expect(result.dropped == (3..<30).map { Double($0) / 100 }, "each counted at its due time")
        #expect(summary.value(of: "dropped", limit: nil) == 27)
    }

    @Test func aLateRequestsLatencyCountsFromWhenItWasDue() async throws {
        // 8 requests/s for 0.5 s: due at 0, 0.125, 0.25 and 0.375 s; each answer takes 0.5 s. The
        // sender is late: it wakes only at 0.375 s, and sends the three requests due by then together.
        // Each is stamped with its due time, so its latency counts the time it waited to be sent
        // (coordinated omission corrected); latency from the send leaves that out.
        let clock = ManualClock()
        let runner = LoadRunner(transport: SlowTransport(delay: .milliseconds(500), clock: clock), clock: clock) { _ in
            (HTTPRequest(url: URL(string: "http://127.0.0.1:1/x")!), 0)
        }
        let run = Task { await runner.run(.constant(rate: 8, duration: 0.5), maxInFlight: 10) }
        try await waitUntil { runner.progress().sent == 1 && clock.sleeperCount == 2 }
        #expect(clock.nextDeadline == ManualClock.Instant(offset: .milliseconds(125)), "the sender sleeps")
        clock.advance(to: ManualClock.Instant(offset: .milliseconds(375)))
        try await waitUntil { runner.progress().sent == 4 && clock.sleeperCount == 4 }
        clock.advance(to: ManualClock.Instant(offset: .milliseconds(500)))
        try await waitUntil { runner.progress().answered == 1 && clock.sleeperCount == 3 }
        clock.advance(to: ManualClock.Instant(offset: .milliseconds(875)))
        let result = await run.value

        // Times on the clock, in seconds as the runner reads them.
        func at(_ milliseconds: Int64) -> Double { Duration.milliseconds(milliseconds).seconds }
        let samples = result.samples.sorted { $0.intended < $1.intended }
        #expect(samples.map(\.intended) == [0, 0.125, 0.25, 0.375], "stamped when due")
        #expect(samples.map(\.sent) == [0, at(375), at(375), at(375)])
        #expect(samples.map(\.answered) == [at(500), at(875), at(875), at(875)])
        let summary = LoadSummary(
            samples: result.samples, dropped: result.dropped, elapsed: result.elapsed, schedule: nil)
        #expect(summary.latency.max == 750 && summary.latency.mean == 593.75, "from due: 500, 750, 625, 500 ms")
        #expect(summary.latencyFromSend.max == 500 && summary.latencyFromSend.mean == 500)
        #expect(summary.maximumSendLagMilliseconds == 250)
    }
}
