import Convoy
import ConvoyMock
import Foundation
import Synchronization
import Testing

/// An in-memory analytics jobs API over a fixed list of ids, whose answers a test can replace one by one.
///
/// Jobs are named `job-1`, `job-2`… in submission order. A job answers `QUEUED` to its first status poll and
/// `FULFILLED` to later ones; its results come in pages of the requested size, the cursor being `c` and the next
/// offset. `script` sees every jobs call and may replace its answer: ``Fault/vanish`` and ``Fault/expire`` remove the
/// job for good (every later call about it answers 404). Conversation requests (`/api/v2/conversations/{id}`) are
/// answered `{"id":…}` and not logged. Every answer is logged with the manual clock's time.
private final class FakeJobsAPI: HTTPTransport {
    /// One jobs call, numbered so a script can pick exactly one attempt.
    enum Call: Hashable, Sendable, CustomStringConvertible {
        /// The `attempt`th submission overall.
        case submit(attempt: Int)
        /// The `poll`th status request about `job`.
        case status(job: Int, poll: Int)
        /// The `attempt`th request for the page at `offset` of `job`.
        case results(job: Int, offset: Int, attempt: Int)

        /// The job the call is about, if any.
        var job: Int? {
            switch self {
            case .submit: nil
            case .status(let job, _), .results(let job, _, _): job
            }
        }

        var description: String {
            switch self {
            case .submit(let attempt): "submit #\(attempt)"
            case .status(let job, let poll): "status job-\(job) #\(poll)"
            case .results(let job, let offset, let attempt): "results job-\(job) @\(offset) #\(attempt)"
            }
        }
    }

    enum Fault: Sendable {
        /// 404 now and for every later call about the job.
        case vanish
        /// State `EXPIRED` now (a status call), 404 for every later call about the job.
        case expire
        /// This answer, this once.
        case answer(HTTPResponse)
    }

    private struct State {
        var submissions = 0
        var polls: [Int: Int] = [:]
        var pageAttempts: [String: Int] = [:]
        var gone: Set<Int> = []
        var log: [(at: Duration, line: String)] = []
        var bodies: [Data] = []
        var conversationRequests = 0
    }

    let ids: [String]
    private let clock: ManualClock
    private let script: @Sendable (Call) -> Fault?
    private let state = Mutex(State())

    init(ids: [String], clock: ManualClock, script: @escaping @Sendable (Call) -> Fault? = { _ in nil }) {
        self.ids = ids
        self.clock = clock
        self.script = script
    }

    /// Every jobs call and its answer, in order, e.g. `status job-1 #2 → 200 QUEUED`.
    var lines: [String] { state.withLock { $0.log.map(\.line) } }
    /// When each logged call was answered, on the manual clock.
    var times: [Duration] { state.withLock { $0.log.map(\.at) } }
    /// The bodies of the submissions.
    var submittedBodies: [Data] { state.withLock { $0.bodies } }
    /// Jobs calls and conversation requests answered so far.
    var requestCount: Int { state.withLock { $0.log.count + $0.conversationRequests } }

    static func json(_ status: Int, _ object: Any, headers: HTTPHeaders = [:]) -> HTTPResponse {
        HTTPResponse(status: status, headers: headers, body: try! JSONSerialization.data(withJSONObject: object))
    }

    static let gone = json(404, ["message": "Unable to find the job", "status": 404])
    static let throttled = json(429, ["message": "Rate limit exceeded", "status": 429], headers: ["Retry-After": "7"])
    static let unavailable = json(503, ["message": "The service is currently unavailable", "status": 503])

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let components = URLComponents(url: request.url, resolvingAgainstBaseURL: true)!
        let parts = components.path.split(separator: "/").map(String.init)
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        return state.withLock { state in
            if parts.starts(with: ["api", "v2", "conversations"]), let id = parts.last {
                state.conversationRequests += 1
                return Self.json(200, ["id": id])
            }
            let jobs = ["api", "v2", "analytics", "conversations", "details", "jobs"]
            guard parts.starts(with: jobs) else { return Self.json(404, ["message": "no such path"]) }
            let rest = Array(parts.dropFirst(jobs.count))
            let job = rest.first.flatMap { Int($0.dropFirst("job-".count)) } ?? 0
            if rest == ["availability"] {  // every interval before the cut-off: jobs only
                return Self.json(200, ["dataAvailabilityDate": "2999-01-01T00:00:00.000Z"])
            }
            let call: Call
            switch (request.method, rest.count) {
            case ("POST", 0):
                state.submissions += 1
                state.bodies.append(request.body ?? Data())
                call = .submit(attempt: state.submissions)
            case ("GET", 1):
                state.polls[job, default: 0] += 1
                call = .status(job: job, poll: state.polls[job]!)
            case ("GET", 2) where rest[1] == "results":
                let offset = Int(query["cursor"]?.dropFirst() ?? "0") ?? -1
                state.pageAttempts["\(job)@\(offset)", default: 0] += 1
                call = .results(job: job, offset: offset, attempt: state.pageAttempts["\(job)@\(offset)"]!)
            default:
                return Self.json(400, ["message": "unexpected \(request.method) \(components.path)"])
            }
            let (response, outcome) = answer(call, query: query, state: &state)
            state.log.append((clock.now.offset, "\(call) → \(outcome)"))
            return response
        }
    }

    private func answer(_ call: Call, query: [String: String], state: inout State) -> (HTTPResponse, String) {
        let fault = script(call)
        if case .answer(let response) = fault { return (response, "\(response.status)") }
        if let job = call.job, state.gone.contains(job) { return (Self.gone, "404") }
        switch (call, fault) {
        case (.submit(let attempt), _):
            return (Self.json(202, ["jobId": "job-\(attempt)"]), "202 job-\(attempt)")
        case (.status(let job, _), .vanish), (.results(let job, _, _), .vanish):
            state.gone.insert(job)
            return (Self.gone, "404")
        case (.status(let job, _), .expire):
            state.gone.insert(job)
            return (Self.json(200, ["state": "EXPIRED"]), "200 EXPIRED")
        case (.status(_, let poll), _):
            let answer = poll == 1 ? "QUEUED" : "FULFILLED"
            return (Self.json(200, ["state": answer]), "200 \(answer)")
        case (.results(_, let offset, _), _):
            let size = Int(query["pageSize"] ?? "") ?? 100
            let end = min(ids.count, offset + size)
            var object: [String: Any] = ["conversations": ids[offset..<end].map { ["conversationId": $0] }]
            if end < ids.count { object["cursor"] = "c\(end)" }
            return (Self.json(200, object), "200 \(end - offset) ids" + (end < ids.count ? "" : ", last"))
        }
    }
}

/// Runs `body` to its end on `clock`, moving it to the earliest deadline whenever someone sleeps on it
/// (the discovery's polling backoff, the limiter's pause, a retry's backoff), so no test waits for real
/// time (``ManualClock/advancingWhileAsleep(_:)``).
///
/// Stops the run once `api` has answered more than `requestLimit` requests, so a broken rule that polls or
/// resubmits forever fails the test instead of hanging it; stops as well when the test is cancelled.
private func drive<T: Sendable>(
    _ clock: ManualClock, api: FakeJobsAPI, requestLimit: Int = 60,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await clock.advancingWhileAsleep(body) }
        group.addTask {
            try await waitUntil(timeout: .seconds(3600)) { api.requestCount > requestLimit }
            Issue.record("stopped after \(api.requestCount) requests: \(api.lines)")
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw CancellationError() }
        return value
    }
}

/// The ids `discovery` yields, in order; anything but an id fails the test.
private func collect<C: Clock>(_ discovery: IntervalDiscovery<C>) async throws -> [String] {
    var ids: [String] = []
    for try await (line, item) in discovery {
        guard case .id(let id) = item else {
            Issue.record("line \(line) is not an id: \(item)")
            continue
        }
        ids.append(id.description)
    }
    return ids
}

/// Passes requests to `base` and keeps a copy of each.
private final class RecordingTransport: HTTPTransport {
    private let base: any HTTPTransport
    private let log = Mutex<[HTTPRequest]>([])

    init(_ base: any HTTPTransport) {
        self.base = base
    }

    var requests: [HTTPRequest] { log.withLock { $0 } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        log.withLock { $0.append(request) }
        return try await base.send(request)
    }
}

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

    @Test func aJobThatKeepsFailingIsResubmittedThenItsSliceIsQueried() async throws {
        let folder = try TemporaryDirectory()
        var configuration = MockServerConfiguration(universeSize: 3000)
        configuration.analyticsAvailability = ISO8601DateFormatter().date(from: "2026-12-31T00:00:00Z")
        configuration.failingJobs = 3
        let server = try MockAPIServer.start(configuration)
        defer { server.shutdown() }
        let formatter = ISO8601DateFormatter()
        let expected = MockConversationStore.conversations(
            inInterval: formatter.date(from: "2026-03-01T00:00:00Z")!..<formatter.date(from: "2026-04-01T00:00:00Z")!,
            universeSize: 3000)
        let clock = ManualClock()
        let coverage = IntervalDiscovery<ManualClock>.Coverage()
        let discovery = IntervalDiscovery(
            query: .init(interval: "2026-03-01T00:00:00Z/2026-04-01T00:00:00Z"), apiBase: server.baseURL,
            sender: BudgetedSender(
                limiter: RateLimiter(configuration: .init(initialRate: 1000), clock: clock),
                transport: URLSessionTransport(maxConnectionsPerHost: 2), credentials: StaticCredentials(token: nil)),
            clock: clock, stateFile: folder.file("o.ndjson"), coverage: coverage)
        let started = clock.now
        let found = try await clock.advancingWhileAsleep { try await collect(discovery) }
        #expect(found == expected, "every id of the interval, in order, from the query")
        let counters = server.counters()
        #expect(counters.requestsByPath["jobsSubmit"] == 3, "three jobs, each FAILED")
        #expect(counters.requestsByPath["analyticsQuery"] == (expected.count + 99) / 100)
        #expect(started.duration(to: clock.now) >= .seconds(2 + 4), "resubmitted after 2 s, then 4 s")
        #expect(
            coverage.description
                == "query 2026-03-01T00:00:00.000Z/2026-04-01T00:00:00.000Z, availability cut-off 2026-12-31T00:00:00.000Z"
        )
    }

    static let interval = "2026-01-01T00:00:00Z/2026-07-01T00:00:00Z"
    static let ids = makeIDs(250)

    /// Discovery of ``interval`` against `api` on `clock`, in pages of 100.
    private static func discovery(
        _ api: FakeJobsAPI, clock: ManualClock, stateFile: String, sender: BudgetedSender<ManualClock>? = nil
    ) -> IntervalDiscovery<ManualClock> {
        IntervalDiscovery(
            query: .init(interval: interval), apiBase: URL(string: "https://api.example.invalid")!,
            sender: sender
                ?? BudgetedSender(
                    limiter: RateLimiter(configuration: .init(initialRate: 1000), clock: clock), transport: api,
                    credentials: StaticCredentials(token: nil)),
            clock: clock, stateFile: stateFile, pageSize: 100)
    }

    /// A job polled once (`QUEUED`), found `FULFILLED`, then read in three pages.
    static func fullRun(job: Int, submission: Int) -> [String] {
        [
            "submit #\(submission) → 202 job-\(job)",
            "status job-\(job) #1 → 200 QUEUED",
            "status job-\(job) #2 → 200 FULFILLED",
            "results job-\(job) @0 #1 → 200 100 ids",
            "results job-\(job) @100 #1 → 200 100 ids",
            "results job-\(job) @200 #1 → 200 50 ids, last",
        ]
    }

    @Test(
        "a job that answers 404 or EXPIRED while polled is submitted again; every id comes once",
        arguments: [
            false, true,
        ])
    func aJobGoneWhilePolledIsSubmittedAgain(expired: Bool) async throws {
        let folder = try TemporaryDirectory()
        let clock = ManualClock()
        let api = FakeJobsAPI(ids: Self.ids, clock: clock) { call in
            call == .status(job: 1, poll: 2) ? (expired ? .expire : .vanish) : nil
        }
        let discovery = Self.discovery(api, clock: clock, stateFile: folder.file("o.ndjson"))
        let found = try await drive(clock, api: api) { try await collect(discovery) }
        #expect(found == Self.ids, "every id once, in order")
        #expect(
            api.lines
                == [
                    "submit #1 → 202 job-1",
                    "status job-1 #1 → 200 QUEUED",
                    "status job-1 #2 → " + (expired ? "200 EXPIRED" : "404"),
                ] + Self.fullRun(job: 2, submission: 2))
    }

    @Test func aJobGoneWhilePagedIsSubmittedAgainAndReadFromTheStart() async throws {
        let folder = try TemporaryDirectory()
        let clock = ManualClock()
        let api = FakeJobsAPI(ids: Self.ids, clock: clock) { call in
            call == .results(job: 1, offset: 100, attempt: 1) ? .vanish : nil
        }
        let discovery = Self.discovery(api, clock: clock, stateFile: folder.file("o.ndjson"))
        let found = try await drive(clock, api: api) { try await collect(discovery) }
        // The new job is read from its first page, so page one comes twice (the engine drops the repeats: see
        // the next test); nothing after the lost cursor is missing.
        #expect(found == Array(Self.ids[0..<100]) + Self.ids)
        #expect(
            api.lines
                == [
                    "submit #1 → 202 job-1",
                    "status job-1 #1 → 200 QUEUED",
                    "status job-1 #2 → 200 FULFILLED",
                    "results job-1 @0 #1 → 200 100 ids",
                    "results job-1 @100 #1 → 404",
                ] + Self.fullRun(job: 2, submission: 2))
    }

    @Test func theFetchGetsEachIDOnceWhenAJobIsLostWhilePaged() async throws {
        let folder = try TemporaryDirectory()
        let clock = ManualClock()
        let api = FakeJobsAPI(ids: Self.ids, clock: clock) { call in
            call == .results(job: 1, offset: 100, attempt: 1) ? .vanish : nil
        }
        var configuration = FetchConfiguration(apiBase: URL(string: "https://api.example.invalid")!)
        configuration.concurrency = 4
        configuration.limiter.initialRate = 1000
        let engine = FetchEngine(configuration: configuration, transport: api, clock: clock)
        let output = folder.file("o.ndjson")
        let store = UncheckedBox(try OutputStore(outputPath: output, errorsPath: folder.file("e.ndjson")))
        let discovery = Self.discovery(api, clock: clock, stateFile: output, sender: engine.sender)
        let summary = try await drive(clock, api: api, requestLimit: 300) {
            try await engine.run(ids: discovery, store: store.value)
        }
        #expect(try idsIn(output).sorted() == Self.ids.sorted(), "every id of the interval exactly once")
        #expect(summary.fetched == 250 && summary.duplicates == 100 && summary.failed == 0)
    }

    @Test func throttledAndFailingPollsAreRetried() async throws {
        let folder = try TemporaryDirectory()
        let clock = ManualClock()
        let api = FakeJobsAPI(ids: Self.ids, clock: clock) { call in
            switch call {
            case .status(job: 1, poll: 2): .answer(FakeJobsAPI.throttled)
            case .status(job: 1, poll: 3): .answer(FakeJobsAPI.unavailable)
            default: nil
            }
        }
        let discovery = Self.discovery(api, clock: clock, stateFile: folder.file("o.ndjson"))
        let found = try await drive(clock, api: api) { try await collect(discovery) }
        #expect(found == Self.ids)
        var expected = Self.fullRun(job: 1, submission: 1)
        expected.insert(contentsOf: ["status job-1 #2 → 429", "status job-1 #3 → 503"], at: 2)
        expected[4] = "status job-1 #4 → 200 FULFILLED"
        #expect(api.lines == expected)
        let times = api.times
        #expect(times[3] - times[2] == .seconds(7), "the retry after the 429 waits out its Retry-After, no more")
    }

    @Test func throttledAndFailingSubmissionsAndPagesAreRetried() async throws {
        let folder = try TemporaryDirectory()
        let clock = ManualClock()
        let api = FakeJobsAPI(ids: Self.ids, clock: clock) { call in
            switch call {
            case .submit(attempt: 1): .answer(FakeJobsAPI.unavailable)
            case .results(job: 2, offset: 100, attempt: 1): .answer(FakeJobsAPI.throttled)
            case .results(job: 2, offset: 200, attempt: 1): .answer(FakeJobsAPI.unavailable)
            default: nil
            }
        }
        let discovery = Self.discovery(api, clock: clock, stateFile: folder.file("o.ndjson"))
        let found = try await drive(clock, api: api) { try await collect(discovery) }
        #expect(found == Self.ids, "a retried page is read again from the same cursor: nothing twice, nothing lost")
        #expect(
            api.lines == [
                "submit #1 → 503",
                "submit #2 → 202 job-2",
                "status job-2 #1 → 200 QUEUED",
                "status job-2 #2 → 200 FULFILLED",
                "results job-2 @0 #1 → 200 100 ids",
                "results job-2 @100 #1 → 429",
                "results job-2 @100 #2 → 200 100 ids",
                "results job-2 @200 #1 → 503",
                "results job-2 @200 #2 → 200 50 ids, last",
            ])
    }

    @Test func divisionIsSentAsAPredicateAndOnlyItsConversationsAreFound() async throws {
        let folder = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration(jobDelay: .zero, universeSize: 1000))
        defer { server.shutdown() }
        let formatter = ISO8601DateFormatter()
        let range = formatter.date(from: "2026-01-01T00:00:00Z")!..<formatter.date(from: "2026-07-01T00:00:00Z")!
        let all = MockConversationStore.conversations(inInterval: range, universeSize: 1000)
        let division = try #require(all.first.map { MockConversationStore.divisionIDs(of: $0)[0] })
        let expected = MockConversationStore.conversations(
            inInterval: range, universeSize: 1000, divisionID: division)
        #expect(!expected.isEmpty && expected != all, "the filter must make a difference for the test to mean anything")

        let transport = RecordingTransport(URLSessionTransport(maxConnectionsPerHost: 2))
        let discovery = IntervalDiscovery(
            query: .init(interval: Self.interval, divisionID: division), apiBase: server.baseURL,
            sender: BudgetedSender(
                limiter: RateLimiter(configuration: .init(initialRate: 1000), clock: ContinuousClock()),
                transport: transport, credentials: StaticCredentials(token: nil)),
            clock: ContinuousClock(), stateFile: folder.file("o.ndjson"), pageSize: 100)
        let found = try await collect(discovery)
        #expect(found == expected)

        let submissions = transport.requests.filter { $0.method == "POST" }
        #expect(submissions.count == 1)
        let body = try #require(submissions.first?.body)
        let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(Set(object.keys) == ["interval", "conversationFilters"])
        #expect(object["interval"] as? String == Self.interval)
        let filters = try #require(object["conversationFilters"] as? [[String: Any]])
        #expect(filters.count == 1 && filters.first?["type"] as? String == "and")
        #expect(
            filters.first?["predicates"] as? [[String: String]] == [["dimension": "divisionId", "value": division]])
    }

    @Test(arguments: ["2026-01-08T00:00:00Z/2026-01-01T00:00:00Z", "yesterday/today", "2026-01-01T00:00:00Z"])
    func badIntervalsAreUsageErrors(_ interval: String) {
        #expect(throws: ConvoyError.self) {
            try IntervalDiscovery<ContinuousClock>.Query(interval: interval).validate()
        }
    }
}
