import Convoy
import ConvoyMock
import Foundation
import Testing

/// `--interval` on the semantics Genesys's models document: a details job returns "all
/// conversations that had activity during the interval", a details query "only conversations that
/// started on a day touched by the interval". Convoy promises the conversations that started in
/// the interval, each fetched once; the rows beyond the promise are counted, never fetched.
@Suite(.serialized, .timeLimit(.minutes(2))) struct IntervalSemanticsEndToEndTests {
    static let universe = 3000

    /// Start and end (milliseconds) of a universe conversation.
    static func span(_ id: String) throws -> (start: Int64, end: Int64) {
        let document = try #require(
            try JSONSerialization.jsonObject(with: MockConversationStore.conversationDocument(id: id)) as? [String: Any]
        )
        func milliseconds(_ key: String) throws -> Int64 {
            let text = try #require(document[key] as? String)
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return Int64((try #require(formatter.date(from: text))).timeIntervalSince1970 * 1000)
        }
        return (try milliseconds("startTime"), try milliseconds("endTime"))
    }

    static func iso(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    /// The first universe conversation that started in `days` and lasts at least two minutes.
    static func straddler(after date: String) throws -> (id: String, start: Int64, end: Int64) {
        let from = ISO8601DateFormatter().date(from: date)!
        for id in MockConversationStore.conversations(
            inInterval: from..<from.addingTimeInterval(30 * 86_400), universeSize: universe)
        {
            let (start, end) = try span(id)
            if end - start > 120_000 { return (id, start, end) }
        }
        throw ConvoyError.input("no conversation to straddle after \(date)")
    }

    @Test func conversationsThatStraddleSlicesAndDaysAreFetchedOnceAndOnlyWhenTheyStartedInTheInterval() async throws {
        // The interval opens a minute into one conversation (a job's activity returns it; it started
        // before), and the availability cut-off falls a minute into another (the job returns it, and
        // the query after the cut-off returns it again: same UTC day).
        let before = try Self.straddler(after: "2026-03-01T00:00:00Z")
        let across = try Self.straddler(after: "2026-04-10T00:00:00Z")
        let start = before.start + 60_000
        let cutoff = across.start + 60_000
        // The interval ends at a UTC midnight, so the query's whole days add nothing outside it: the
        // rows from outside are the job's, of conversations still going on when the interval opened.
        let end = ISO8601DateFormatter().date(from: "2026-05-20T00:00:00Z")!
        let interval = Self.iso(start) + "/" + ISO8601DateFormatter().string(from: end)

        var configuration = MockServerConfiguration(jobDelay: .milliseconds(20), universeSize: Self.universe)
        configuration.analyticsAvailability = Date(timeIntervalSince1970: Double(cutoff) / 1000)
        configuration.queryResultCap = 100
        let server = try MockAPIServer.start(configuration)
        defer { server.shutdown() }
        let scratch = try TemporaryDirectory()
        let (status, console) = await convoy([
            "fetch", "--interval", interval, "--query-cap", "100", "--api-base", server.baseURL.absoluteString,
            "--output", scratch.file("o.ndjson"), "--no-progress", "--initial-rate", "500",
        ])
        #expect(status == 0, "\(console.capturedError)")

        let promised = MockConversationStore.conversations(
            inInterval: Date(timeIntervalSince1970: Double(start) / 1000)..<end, universeSize: Self.universe)
        let fetched = try ConvoyCLITests.ids(scratch.file("o.ndjson"))
        #expect(fetched.count == Set(fetched).count, "each id once")
        #expect(Set(fetched) == Set(promised), "exactly the conversations that started in the interval")
        #expect(!fetched.contains(before.id), "started before the interval: a job's activity, not the promise")
        #expect(fetched.contains(across.id), "started before the cut-off: fetched, once")

        let manifest = try #require(try records(scratch.file("o.manifest.ndjson")).last)
        let coverage = try #require((manifest["input"] as? [String: Any])?["coverage"] as? String)
        #expect(coverage.contains("rows of a conversation another slice returned"), "\(coverage)")
        #expect(
            coverage.contains("rows of conversations that started outside the interval"),
            "the job returned the conversation going on at the interval's start: \(coverage)")
        #expect(console.capturedError.contains("started outside the interval"))
    }
}
