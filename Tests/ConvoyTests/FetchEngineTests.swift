import Convoy
import ConvoyMock
import Foundation
import Synchronization
import Testing

/// An in-memory API: `respond` decides each answer from the request, its id and how often that id
/// was asked for.
final class FakeTransport: HTTPTransport {
    let respond: @Sendable (_ request: HTTPRequest, _ id: String, _ attempt: Int) async throws -> HTTPResponse
    private let log = Mutex<[String]>([])

    init(_ respond: @escaping @Sendable (_ id: String, _ attempt: Int) async throws -> HTTPResponse) {
        self.respond = { _, id, attempt in try await respond(id, attempt) }
    }

    init(
        requests respond:
            @escaping @Sendable (_ request: HTTPRequest, _ id: String, _ attempt: Int) async throws ->
            HTTPResponse
    ) {
        self.respond = respond
    }

    /// Ids requested, in order.
    var requests: [String] { log.withLock { $0 } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let id = request.url.lastPathComponent
        let attempt = log.withLock { log in
            log.append(id)
            return log.filter { $0 == id }.count
        }
        return try await respond(request, id, attempt)
    }

    static let budget: HTTPHeaders = [
        "inin-ratelimit-count": "1", "inin-ratelimit-allowed": "100000", "inin-ratelimit-reset": "60",
    ]

    static func ok(_ id: String, pretty: Bool = false) -> HTTPResponse {
        let body = pretty ? "{\n  \"id\" : \"\(id)\",\n  \"n\" : [ 1, 2 ]\n}\n" : #"{"id":"\#(id)","n":[1,2]}"#
        return HTTPResponse(status: 200, headers: budget, body: Data(body.utf8))
    }

    static func status(_ code: Int) -> HTTPResponse {
        HTTPResponse(status: code, headers: budget, body: Data(#"{"message":"nope","status":\#(code)}"#.utf8))
    }
}

func makeIDs(_ count: Int) -> [String] {
    (0..<count).map { String(format: "%08x-0000-4000-8000-%012x", $0, $0) }
}

func lines(_ ids: [String]) -> AsyncStream<IDReader.Element> {
    AsyncStream { continuation in
        for (index, id) in ids.enumerated() { continuation.yield((index + 1, InputLine(parsing: Substring(id)))) }
        continuation.finish()
    }
}

func engine(_ transport: FakeTransport, concurrency: Int = 8, maxAttempts: Int = 4) -> FetchEngine<ContinuousClock> {
    var configuration = FetchConfiguration(apiBase: URL(string: "http://127.0.0.1:1")!)
    configuration.concurrency = concurrency
    configuration.maxAttempts = maxAttempts
    configuration.backoff = Backoff(base: .milliseconds(2), cap: .milliseconds(10))
    configuration.limiter.initialRate = 100_000
    return FetchEngine(configuration: configuration, transport: transport, clock: ContinuousClock())
}

/// The ids in an NDJSON file, one per line, in file order.
func idsIn(_ path: String) throws -> [String] {
    try readLines(path).map { line in
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        return object["id"] as! String
    }
}

@Suite(.timeLimit(.minutes(1))) struct FetchEngineTests {
    @Test func everyIDEndsInExactlyOneFile() async throws {
        let folder = try TemporaryDirectory()
        let ids = makeIDs(60)
        let transport = FakeTransport { id, attempt in
            let n = Int(id.prefix(8), radix: 16)!
            switch n % 6 {
            case 0: return FakeTransport.status(404)
            case 1: return attempt == 1 ? FakeTransport.status(500) : FakeTransport.ok(id)
            case 2: if attempt == 1 { throw URLError(.networkConnectionLost) } else { return FakeTransport.ok(id) }
            case 3:
                return attempt == 1 ? HTTPResponse(status: 200, body: Data(#"{"id":"tru"#.utf8)) : FakeTransport.ok(id)
            case 4: return FakeTransport.ok(id, pretty: true)
            default: return FakeTransport.ok(id)
            }
        }
        let store = try OutputStore(outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson"))
        let input = ids + [ids[5], "garbage", ids[7]]
        let summary = try await engine(transport).run(ids: lines(input), store: store)

        let expectedMissing = ids.enumerated().filter { $0.offset % 6 == 0 }.map(\.element)
        #expect(Set(try idsIn(folder.file("o.ndjson"))) == Set(ids).subtracting(expectedMissing))
        #expect(try idsIn(folder.file("o.ndjson")).count == 50, "no id twice")
        #expect(try idsIn(folder.file("e.ndjson")).sorted() == (expectedMissing + ["garbage"]).sorted())
        #expect(summary.fetched == 50 && summary.failed == 11 && summary.invalid == 1 && summary.duplicates == 2)
        #expect(summary.retries == 30, "one retry each for the 500, the dropped connection and the torn body")
        #expect(transport.requests.filter { $0 == "garbage" }.isEmpty, "bad input never reaches a URL")
        for line in try readLines(folder.file("o.ndjson")) {
            #expect(!line.contains(" "), "documents are compacted: \(line)")
        }
        let record = try readLines(folder.file("o.ndjson")).first { $0.contains(ids[1]) }!
        #expect(record.contains(#""attempts":2"#))
    }

    @Test func exhaustedRetriesAreRecordedAsRetryable() async throws {
        let folder = try TemporaryDirectory()
        let transport = FakeTransport { _, _ in FakeTransport.status(503) }
        let store = try OutputStore(outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson"))
        let summary = try await engine(transport, maxAttempts: 3).run(ids: lines(makeIDs(2)), store: store)
        #expect(summary.failed == 2 && transport.requests.count == 6)
        let errors = try readLines(folder.file("e.ndjson"))
        #expect(
            errors.allSatisfy {
                $0.contains(#""status":503"#) && $0.contains(#""attempts":3"#) && $0.contains(#""retryable":true"#)
            })
    }

    @Test func aBackingOffRequestFreesItsSlot() async throws {
        let folder = try TemporaryDirectory()
        let ids = makeIDs(2)
        let transport = FakeTransport { id, attempt in
            id == ids[0] && attempt == 1 ? FakeTransport.status(500) : FakeTransport.ok(id)
        }
        var configuration = FetchConfiguration(apiBase: URL(string: "http://127.0.0.1:1")!)
        configuration.concurrency = 1
        configuration.backoff = Backoff(base: .milliseconds(200), cap: .milliseconds(200))
        configuration.limiter.initialRate = 100_000
        // One slot: if the failed request kept it while waiting to retry, the second id could not
        // start before the retry. The wait is a separate task, so the order is A, B, A.
        let engine = FetchEngine(configuration: configuration, transport: transport, clock: ContinuousClock())
        let store = try OutputStore(outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson"))
        _ = try await engine.run(ids: lines(ids), store: store)
        #expect(transport.requests == [ids[0], ids[1], ids[0]])
        #expect(Set(try idsIn(folder.file("o.ndjson"))) == Set(ids))
    }

    @Test func idsThatFailTogetherAreNotRetriedTogether() async throws {
        // On the manual clock: 20 ids answer 500 at the same instant. Full jitter spreads their
        // retries over the whole first ceiling (1 s); without it they would all come back at 1 s.
        // The answers carry no budget headers, so the limiter paces nobody apart. The engine draws
        // from the system generator, so the spread is checked with a margin: 20 uniform draws over
        // 1 s all fall within 250 ms of one another with a probability below 1e-10.
        let folder = try TemporaryDirectory()
        let ids = makeIDs(20)
        let clock = ManualClock()
        let sent = Mutex<[(attempt: Int, at: Duration)]>([])
        let transport = FakeTransport { id, attempt in
            sent.withLock { $0.append((attempt, clock.now.offset)) }
            return HTTPResponse(
                status: attempt == 1 ? 500 : 200, body: Data(attempt == 1 ? "{}".utf8 : #"{"id":"\#(id)"}"#.utf8))
        }
        var configuration = FetchConfiguration(apiBase: URL(string: "http://127.0.0.1:1")!)
        configuration.concurrency = ids.count
        configuration.backoff = Backoff(base: .seconds(1), cap: .seconds(1))
        configuration.limiter.initialRate = 100_000
        let engine = FetchEngine(configuration: configuration, transport: transport, clock: clock)
        let store = UncheckedBox(
            try OutputStore(outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson")))
        let run = Task { try await engine.run(ids: lines(ids), store: store.value) }
        // Every id failed and waits to retry; the clock has not moved.
        try await waitUntil { sent.withLock { $0.count } == ids.count && clock.sleeperCount == ids.count }
        // Then one deadline at a time, each once the retries it woke have been sent, so that every
        // retry is seen at its own instant.
        var woken = 0
        while woken < ids.count {
            let asleep = clock.sleeperCount
            clock.advance(to: clock.nextDeadline!)
            woken += asleep - clock.sleeperCount
            try await waitUntil { sent.withLock { $0.count } == ids.count + woken }
        }
        let summary = try await run.valueFollowingCancellation

        #expect(summary.fetched == ids.count && summary.retries == ids.count)
        let log = sent.withLock { $0 }
        #expect(
            log.filter { $0.attempt == 1 }.map(\.at) == Array(repeating: .zero, count: ids.count), "failed together")
        let retries = log.filter { $0.attempt == 2 }.map(\.at)
        #expect(retries.count == ids.count)
        #expect(retries.allSatisfy { $0 >= .zero && $0 <= .seconds(1) }, "each within the ceiling")
        #expect(Set(retries).count == ids.count, "each at an instant of its own: \(retries)")
        #expect(retries.max()! - retries.min()! > .milliseconds(250), "spread over the ceiling: \(retries)")
    }

    @Test func unauthorizedStopsTheRunWithoutLosingTheID() async throws {
        let folder = try TemporaryDirectory()
        let transport = FakeTransport { _, _ in FakeTransport.status(401) }
        let store = try OutputStore(outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson"))
        await #expect(throws: ConvoyError.self) {
            _ = try await engine(transport).run(ids: lines(makeIDs(3)), store: store)
        }
        #expect(try readLines(folder.file("o.ndjson")).isEmpty)
        #expect(try readLines(folder.file("e.ndjson")).isEmpty, "401 is not the id's fault: a re-run retries it")
    }

    @Test func inFlightRequestsNeverExceedTheConcurrency() async throws {
        let folder = try TemporaryDirectory()
        let ids = makeIDs(12)
        let gate = Gate()
        let transport = FakeTransport { id, _ in
            await gate.pass()
            return FakeTransport.ok(id)
        }
        let store = UncheckedBox(
            try OutputStore(outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson")))
        let engine = engine(transport, concurrency: 3)
        let run = Task { try await engine.run(ids: lines(ids), store: store.value) }
        // Let one request go at a time, each once the engine has had every chance to send more.
        for released in 0..<ids.count {
            try await waitUntil { gate.held == min(3, ids.count - released) }
            for _ in 0..<200 { await Task.yield() }
            gate.releaseOne()
        }
        let summary = try await run.valueFollowingCancellation
        #expect(summary.fetched == ids.count)
        #expect(gate.maxInFlight == 3, "exactly --concurrency requests in flight, never more")
    }

    @Test func aRejectedTokenIsRenewedAndTheRequestRetriedAfterAThrottle() async throws {
        // On the manual clock: 401s with the first token, a 429 with Retry-After 5 s for one id
        // under the second, and nothing lost or stopped.
        let folder = try TemporaryDirectory()
        let ids = makeIDs(6)
        let clock = ManualClock()
        let sent = Mutex<[(id: String, token: String, at: ManualClock.Instant, status: Int)]>([])
        let transport = FakeTransport(requests: { request, id, _ in
            let token = request.headers["Authorization"] ?? ""
            let status: Int = sent.withLock { log in
                let status =
                    token != "Bearer token-2" ? 401 : id == ids[0] && !log.contains { $0.status == 429 } ? 429 : 200
                log.append((id, token, clock.now, status))
                return status
            }
            switch status {
            case 200: return FakeTransport.ok(id)
            case 429: return HTTPResponse(status: 429, headers: ["Retry-After": "5"], body: Data())
            default: return FakeTransport.status(status)
            }
        })
        var configuration = FetchConfiguration(apiBase: URL(string: "http://127.0.0.1:1")!)
        configuration.concurrency = 4
        configuration.limiter.initialRate = 1000
        let credentials = RotatingCredentials()
        let engine = FetchEngine(
            configuration: configuration, transport: transport, credentials: credentials, clock: clock)
        let store = UncheckedBox(
            try OutputStore(outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson")))
        let summary = try await clock.advancingWhileAsleep { try await engine.run(ids: lines(ids), store: store.value) }

        #expect(Set(try idsIn(folder.file("o.ndjson"))) == Set(ids), "every id fetched, the run not stopped")
        #expect(summary.fetched == ids.count && summary.failed == 0)
        let log = sent.withLock { $0 }
        #expect(log.filter { $0.status == 401 }.allSatisfy { $0.token == "Bearer token-1" })
        #expect(log.filter { $0.status == 200 }.count == ids.count)
        #expect(credentials.rejected.allSatisfy { $0 == "token-1" } && !credentials.rejected.isEmpty)
        let throttled = try #require(log.first { $0.status == 429 })
        let retry = try #require(log.last { $0.id == ids[0] })
        #expect(
            retry.status == 200 && retry.at >= throttled.at.advanced(by: .seconds(5)),
            "the retry waited out Retry-After")
        #expect(
            log.filter { $0.at > throttled.at }.allSatisfy { $0.at >= throttled.at.advanced(by: .seconds(5)) },
            "one 429 paused every sender")
    }

    @Test func aProviderWhoseTokensAreAlwaysStaleFailsTheRequestInsteadOfLooping() async throws {
        struct AlwaysStale: CredentialProvider {
            func accessToken() async throws -> String? { "expired" }
            func rejected(_ token: String?) async -> Bool { false }
            var rejectionAdvice: String { "" }
            func isFresh(_ token: String?) -> Bool { false }
        }
        let transport = FakeTransport { id, _ in FakeTransport.ok(id) }
        let limiter = RateLimiter(configuration: .init(initialRate: 1_000_000), clock: ContinuousClock())
        let sender = BudgetedSender(limiter: limiter, transport: transport, credentials: AlwaysStale())
        await #expect(throws: BudgetedSender<ContinuousClock>.Failure.self) {
            _ = try await sender.send(HTTPRequest(url: URL(string: "http://127.0.0.1:1/x")!))
        }
        #expect(transport.requests.isEmpty, "a stale token is never sent")
        #expect(limiter.inFlight == 0, "every permit it took was given back")
    }

    @Test func aRedirectStopsTheRunInsteadOfFailingEveryID() async throws {
        let folder = try TemporaryDirectory()
        let transport = FakeTransport { _, _ in
            HTTPResponse(status: 301, headers: ["Location": "https://api.elsewhere.example"], body: Data())
        }
        let store = try OutputStore(outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson"))
        do {
            _ = try await engine(transport, concurrency: 1).run(ids: lines(makeIDs(5)), store: store)
            Issue.record("expected the run to stop")
        } catch let error as ConvoyError {
            #expect(error.message.contains("HTTP 301 to https://api.elsewhere.example"))
        }
        #expect(try readLines(folder.file("e.ndjson")).isEmpty, "no id is marked as a permanent failure")
    }

    /// An input that stalls (a slow pipe, a discovery job being polled) holds back no answer: the
    /// first id's record is on disk while the second has not come, and a stalled input is still
    /// cancelled with the run.
    @Test func aStalledInputHoldsBackNoAnswer() async throws {
        let folder = try TemporaryDirectory()
        let ids = makeIDs(2)
        let (input, feed) = AsyncStream<IDReader.Element>.makeStream()
        feed.yield((1, InputLine(parsing: Substring(ids[0]))))
        let store = UncheckedBox(
            try OutputStore(outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson")))
        let engine = engine(FakeTransport { id, _ in FakeTransport.ok(id) })
        let run = Task { try await engine.run(ids: input, store: store.value) }
        try await waitUntil { (try? idsIn(folder.file("o.ndjson"))) == [ids[0]] }
        #expect(engine.progress().inputRecords == 1, "written while the input has said nothing more")
        feed.yield((2, InputLine(parsing: Substring(ids[1]))))
        try await waitUntil { (try? idsIn(folder.file("o.ndjson")))?.count == 2 }
        run.cancel()  // the input never ends
        let summary = try await run.valueFollowingCancellation
        #expect(summary.fetched == 2 && summary.interrupted && !summary.inputComplete)
    }

    @Test func cancellationAbandonsInFlightWorkAndKeepsFilesWhole() async throws {
        let folder = try TemporaryDirectory()
        let ids = makeIDs(40)
        let transport = FakeTransport { id, _ in
            if Int(id.prefix(8), radix: 16)! >= 10 { try await Task.sleep(for: .seconds(600)) }
            return FakeTransport.ok(id)
        }
        let store = try OutputStore(outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson"))
        let engine = engine(transport, concurrency: 4)
        let box = UncheckedBox(store)
        let run = Task { try await engine.run(ids: lines(ids), store: box.value) }
        try await waitUntil { engine.progress().fetched >= 10 }
        run.cancel()
        let summary = try await run.valueFollowingCancellation
        #expect(summary.interrupted)
        #expect(summary.fetched == 10)
        #expect(summary.abandoned >= 4, "the requests in flight were abandoned")
        #expect(try idsIn(folder.file("o.ndjson")).sorted() == Array(ids.prefix(10)))
    }
}

/// Requests held in the transport until the test lets them go, counting how many are in flight.
final class Gate: Sendable {
    private struct State {
        var held: [CheckedContinuation<Void, Never>] = []
        var inFlight = 0
        var maxInFlight = 0
    }

    private let state = Mutex(State())

    var held: Int { state.withLock { $0.held.count } }
    var maxInFlight: Int { state.withLock { $0.maxInFlight } }

    /// Called by a request: counts it in flight and waits until ``releaseOne()``.
    func pass() async {
        await withCheckedContinuation { continuation in
            state.withLock { state in
                state.inFlight += 1
                state.maxInFlight = max(state.maxInFlight, state.inFlight)
                state.held.append(continuation)
            }
        }
        state.withLock { $0.inFlight -= 1 }
    }

    func releaseOne() {
        let next = state.withLock { $0.held.isEmpty ? nil : $0.held.removeFirst() }
        next?.resume()
    }
}

/// A token that the API accepts only after the first one was rejected.
final class RotatingCredentials: CredentialProvider {
    private let rejections = Mutex<[String?]>([])

    /// The tokens the engine reported as rejected, in order.
    var rejected: [String?] { rejections.withLock { $0 } }

    func accessToken() async throws -> String? {
        rejections.withLock { $0.isEmpty ? "token-1" : "token-2" }
    }

    func rejected(_ token: String?) async -> Bool {
        rejections.withLock { $0.append(token) }
        return true
    }

    var rejectionAdvice: String { "rotate" }
}

struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
