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
}
