import Convoy
import ConvoyMock
import Foundation
import Testing

@Suite(.timeLimit(.minutes(1))) struct IntervalDiscoveryTests {
    @Test func anInterruptedDiscoveryResumesWithoutReadingAPageTwice() async throws {
        let folder = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration(jobDelay: .milliseconds(50), universeSize: 3000))
        defer { server.shutdown() }
        let formatter = ISO8601DateFormatter()
        let expected = MockConversationStore.conversations(
            inInterval: formatter.date(from: "2026-01-01T00:00:00Z")!..<formatter.date(from: "2026-07-01T00:00:00Z")!,
            universeSize: 3000)
        let limiter = RateLimiter(configuration: .init(initialRate: 1000), clock: ContinuousClock())
        func discovery() -> IntervalDiscovery<ContinuousClock> {
            IntervalDiscovery(
                query: .init(interval: "2026-01-01T00:00:00Z/2026-07-01T00:00:00Z"), apiBase: server.baseURL,
                sender: BudgetedSender(
                    limiter: limiter, transport: URLSessionTransport(maxConnectionsPerHost: 2),
                    credentials: StaticCredentials(token: nil)),
                clock: ContinuousClock(), stateFile: folder.file("o.ndjson"), pageSize: 100)
        }
        func id(_ item: InputLine) -> String? {
            if case .id(let id) = item { return id.description }
            return nil
        }

        // The first run stops (as a kill would) once 250 ids are out: three pages were read.
        var first: [String] = []
        var iterator = discovery().makeAsyncIterator()
        while first.count < 250, let (_, item) = try await iterator.next() { first += id(item).map { [$0] } ?? [] }
        #expect(server.counters().requestsByPath["jobsResults"] == 3)
        let statusPolls = server.counters().requestsByPath["jobsStatus"] ?? 0

        // The second run replays the journal (300 ids), then pages on from the saved cursor.
        var second: [String] = []
        for try await (_, item) in discovery() { second += id(item).map { [$0] } ?? [] }
        #expect(second == expected, "every id of the interval, in order, none twice")
        let pages = (expected.count + 99) / 100
        #expect(server.counters().requestsByPath["jobsResults"] == pages, "no page read twice")
        #expect(server.counters().requestsByPath["jobsSubmit"] == 1, "the job was not submitted again")
        #expect(server.counters().requestsByPath["jobsStatus"] == statusPolls, "a fulfilled job is not polled again")

        // A finished discovery replays its journal and asks the API nothing.
        let requests = server.counters().requests
        var third: [String] = []
        for try await (_, item) in discovery() { third += id(item).map { [$0] } ?? [] }
        #expect(third == expected && server.counters().requests == requests)
    }

    @Test(arguments: ["2026-01-08T00:00:00Z/2026-01-01T00:00:00Z", "yesterday/today", "2026-01-01T00:00:00Z"])
    func badIntervalsAreUsageErrors(_ interval: String) {
        #expect(throws: ConvoyError.self) {
            try IntervalDiscovery<ContinuousClock>.Query(interval: interval).validate()
        }
    }
}
