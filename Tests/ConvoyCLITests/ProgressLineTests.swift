import ConvoyMock
import Foundation
import Testing

@testable import Convoy
@testable import ConvoyCLI

/// The progress line of a long job: bar, share and an ETA from the learned limit.
@Suite struct ProgressLineTests {
    static func summary(fetched: Int, skipped: Int = 0, otherShards: Int = 0) -> FetchSummary {
        var summary = FetchSummary()
        summary.fetched = fetched
        summary.skipped = skipped
        summary.otherShards = otherShards
        summary.limiter = RateLimiterSnapshot(
            mode: .headers, limit: 300, windowSeconds: 60, family: .genesys, rate: 4.2, admitted: 0, throttled: 0,
            pauses: 0)
        return summary
    }

    @Test func theETAComesFromTheLearnedLimitAndTheRequestsLeft() {
        // 1,000,000 lines, 250,000 done: 750,000 ids × 2 parts at 300 per 60 s = 300,000 s.
        let line = SummaryReport.progressLine(
            Self.summary(fetched: 200_000, skipped: 50_000), elapsed: 10,
            job: SummaryReport.Job(total: 1_000_000, requestsPerID: 2.0))
        #expect(line.hasPrefix("[#####...............]  25.0 %  250000/1000000  ETA 3d11h  fetched 200000"), "\(line)")
    }

    @Test func otherShardsIDsCostThisMachineNothing() {
        // 4 shards: of the 600 ids left, this machine fetches a quarter, 150 s at 1 request/s.
        var summary = Self.summary(fetched: 100, otherShards: 300)
        summary.limiter?.limit = 60
        let line = SummaryReport.progressLine(summary, elapsed: 1, job: SummaryReport.Job(total: 1000, shards: 4))
        #expect(line.contains("40.0 %  400/1000  ETA 2m30s"), "\(line)")
    }

    @Test func withoutATotalThereIsNoBar() {
        let line = SummaryReport.progressLine(Self.summary(fetched: 5), elapsed: 1)
        #expect(line.hasPrefix("fetched 5  failed 0"))
    }

    @Test func durationsReadAsAClock() {
        #expect(SummaryReport.clock(59.2) == "1m00s")
        #expect(SummaryReport.clock(45) == "45s")
        #expect(SummaryReport.clock(3725) == "1h02m")
        #expect(SummaryReport.clock(2 * 86400 + 4 * 3600) == "2d04h")
    }

    /// Off a terminal (as under `kubectl logs`), a plain line every interval, with the bar.
    @Test(.timeLimit(.minutes(1))) func aLogGetsAPlainLineEachInterval() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(
            MockServerConfiguration(rateLimit: .fixedWindow(limit: 20, window: .milliseconds(500))))
        defer { server.shutdown() }
        let input = try writeIDs(MockConversationStore.sampleIDs(count: 60, seed: 31), in: scratch)
        let (status, console) = await convoy([
            "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("out.ndjson"),
            "--progress-interval", "250ms",
        ])
        #expect(status == 0)
        let lines = console.capturedError.split(separator: "\n").filter { $0.hasPrefix("convoy: progress [") }
        #expect(lines.count >= 2, "a 1.5 s run, a line every 0.25 s: \(console.capturedError)")
        #expect(lines.allSatisfy { $0.contains("/60  ETA ") }, "\(lines)")
        let (none, quiet) = await convoy([
            "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("out.ndjson"),
            "--progress-interval", "0",
        ])
        #expect(none == 0 && !quiet.capturedError.contains("convoy: progress"))
    }
}
