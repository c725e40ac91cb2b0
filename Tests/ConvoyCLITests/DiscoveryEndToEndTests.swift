import Convoy
import ConvoyCLI
import ConvoyMock
import Foundation
import Testing

/// `convoy fetch --interval` against a mock whose jobs API stops at an availability cut-off, whose
/// query API caps its pagination, and whose first job fails.
@Suite(.serialized, .timeLimit(.minutes(2))) struct DiscoveryEndToEndTests {
    static let interval = "2026-03-01T00:00:00Z/2026-09-01T00:00:00Z"
    static let cutoff = ISO8601DateFormatter().date(from: "2026-06-01T00:00:00Z")!

    static func server() throws -> MockAPIServer {
        var configuration = MockServerConfiguration(
            missingPerMille: 20, jobDelay: .milliseconds(50), universeSize: 3000)
        configuration.analyticsAvailability = cutoff
        configuration.queryResultCap = 200
        configuration.failingJobs = 1
        return try MockAPIServer.start(configuration)
    }

    /// The conversations the interval holds (by start time), whether or not the jobs API has them yet.
    static func expected(availableBefore: Date? = nil) -> [String] {
        let formatter = ISO8601DateFormatter()
        let bounds = interval.split(separator: "/").map { formatter.date(from: String($0))! }
        return MockConversationStore.conversations(
            inInterval: bounds[0]..<bounds[1], universeSize: 3000, missingPerMille: 20, availableBefore: availableBefore
        )
    }

    static func arguments(_ server: MockAPIServer, _ scratch: borrowing TemporaryDirectory) -> [String] {
        [
            "fetch", "--interval", interval, "--query-cap", "200", "--api-base", server.baseURL.absoluteString,
            "--output", scratch.file("o.ndjson"), "--no-progress",
        ]
    }

    @Test func anIntervalAcrossTheCutOffLandsExactlyTheMocksSet() async throws {
        let scratch = try TemporaryDirectory()
        let server = try Self.server()
        defer { server.shutdown() }
        let expected = Self.expected()
        let jobsAlone = Self.expected(availableBefore: Self.cutoff)
        #expect(jobsAlone.count < expected.count - 400, "a job alone would miss the newest")

        let (status, console) = await convoy(Self.arguments(server, scratch))
        #expect(status == 0, "\(console.capturedError)")
        let fetched = try ids(scratch.file("o.ndjson"))
        #expect(fetched.count == Set(fetched).count && Set(fetched) == Set(expected))

        let counters = server.counters()
        #expect(counters.requestsByPath["jobsAvailability"] == 1)
        #expect(counters.requestsByPath["jobsSubmit"] == 2, "the failed job was submitted again")
        #expect(counters.pagesServed.values.allSatisfy { $0 == 1 }, "\(counters.pagesServed)")
        let queried = Set(
            counters.pagesServed.keys.filter { $0.hasPrefix("query ") }.map { $0.split(separator: " ")[1] })
        #expect(queried.count >= 5, "the query's part was split under its cap of 200: \(queried.sorted())")

        let coverage =
            "jobs 2026-03-01T00:00:00.000Z/2026-06-01T00:00:00.000Z, "
            + "query 2026-06-01T00:00:00.000Z/2026-09-01T00:00:00.000Z"
        #expect(console.capturedError.contains("interval  " + coverage), "\(console.capturedError)")
        let manifest = try records(scratch.file("o.manifest.ndjson")).last
        let input = try #require(manifest?["input"] as? [String: Any])
        let recorded = try #require(input["coverage"] as? String)
        #expect(recorded.hasPrefix(coverage) && recorded.contains("availability cut-off 2026-06-01T00:00:00.000Z"))
    }

    @Test func aKillDuringDiscoveryResumesWithNoPageReadTwice() async throws {
        let scratch = try TemporaryDirectory()
        let server = try Self.server()
        defer { server.shutdown() }
        let expected = Self.expected()

        // The mock answers 12 requests, then holds its answers. Discovery alone needs about 20
        // (availability, two jobs and their polls, a results page, the query's split probes and
        // pages), so the kill comes mid-discovery however the fetches interleave.
        server.holdAnswers(after: 12)
        let process = Process()
        process.executableURL = try convoyExecutable()
        process.arguments = Self.arguments(server, scratch)
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        try await waitUntil { server.counters().held > 0 }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        server.holdAnswers(after: nil)
        let pagesBefore = server.counters().pagesServed
        let checkpoint = try String(contentsOfFile: scratch.file("o.ndjson.discovery.json"), encoding: .utf8)
        #expect(checkpoint.contains(#""finished":false"#), "killed while discovery went on: \(checkpoint)")

        let (status, console) = await convoy(Self.arguments(server, scratch))
        #expect(status == 0, "\(console.capturedError)")
        let fetched = try ids(scratch.file("o.ndjson"))
        #expect(fetched.count == Set(fetched).count, "no record twice")
        #expect(Set(fetched) == Set(expected), "exactly the interval's conversations")
        let pages = server.counters().pagesServed
        #expect(pages.count > pagesBefore.count, "the re-run read the pages that were left")
        #expect(pages.values.allSatisfy { $0 == 1 }, "no page read twice: \(pages.filter { $0.value > 1 })")
    }
}
