import Convoy
import ConvoyMock
import Foundation
import Synchronization
import Testing

/// An in-memory API: `respond` decides each answer from the id and how often it was asked for.
final class FakeTransport: HTTPTransport {
    let respond: @Sendable (_ id: String, _ attempt: Int) async throws -> HTTPResponse
    private let log = Mutex<[String]>([])

    init(_ respond: @escaping @Sendable (_ id: String, _ attempt: Int) async throws -> HTTPResponse) {
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
        return try await respond(id, attempt)
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
        while engine.progress().fetched < 10 { await Task.yield() }
        run.cancel()
        let summary = try await run.value
        #expect(summary.interrupted)
        #expect(summary.fetched == 10)
        #expect(summary.abandoned >= 4, "the requests in flight were abandoned")
        #expect(try idsIn(folder.file("o.ndjson")).sorted() == Array(ids.prefix(10)))
    }
}

struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
