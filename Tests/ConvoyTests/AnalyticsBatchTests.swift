import Convoy
import ConvoyMock
import Foundation
import Synchronization
import Testing

@testable import Convoy

/// An analytics API in memory. The batch endpoint (`…/analytics/conversations/details?id=…`)
/// answers at most `maximum` ids (else 400), lists the ids that have analytics, with whitespace
/// between elements, answers 500 for any batch that holds a `poisoned` id and 403 for one that
/// holds a `forbidden` id. The per-id endpoint answers the same document compact, 404 for
/// `missing` ids, 500 for `poisoned` ones, 403 for `forbidden` ones. Conversations always exist.
final class AnalyticsServer: HTTPTransport {
    let maximum: Int
    let missing: Set<String>
    let poisoned: Set<String>
    let forbidden: Set<String>
    /// Ids asked for, per batch request, in order.
    let batches = Mutex<[[String]]>([])
    /// Ids asked for on the per-id endpoint, in order.
    let single = Mutex<[String]>([])

    init(maximum: Int = 100, missing: Set<String> = [], poisoned: Set<String> = [], forbidden: Set<String> = []) {
        self.maximum = maximum
        self.missing = missing
        self.poisoned = poisoned
        self.forbidden = forbidden
    }

    static func document(_ id: String) -> String { #"{"conversationId":"\#(id)","divisionIds":["d"],"n":[1,2]}"# }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let parts = request.url.path.split(separator: "/").map(String.init)
        if parts.count == 5, parts[4] == "details" {
            let ids =
                URLComponents(url: request.url, resolvingAgainstBaseURL: false)?.queryItems?
                .first { $0.name == "id" }?.value?.split(separator: ",").map(String.init) ?? []
            batches.withLock { $0.append(ids) }
            if ids.count > maximum { return FakeTransport.status(400) }
            if ids.contains(where: poisoned.contains) { return FakeTransport.status(500) }
            if ids.contains(where: forbidden.contains) { return FakeTransport.status(403) }
            let documents = ids.filter { !missing.contains($0) }.map(Self.document)
            let body = "{ \"conversations\" : [ " + documents.joined(separator: " ,\n ") + " ] }"
            return HTTPResponse(status: 200, headers: FakeTransport.budget, body: Data(body.utf8))
        }
        if parts.count == 6, parts[2] == "analytics" {
            let id = parts[4]
            single.withLock { $0.append(id) }
            if forbidden.contains(id) { return FakeTransport.status(403) }
            if poisoned.contains(id) { return FakeTransport.status(500) }
            if missing.contains(id) { return FakeTransport.status(404) }
            return HTTPResponse(status: 200, headers: FakeTransport.budget, body: Data(Self.document(id).utf8))
        }
        return FakeTransport.ok(parts[3])
    }
}

@Suite(.timeLimit(.minutes(1))) struct AnalyticsBatchTests {
    static func run(
        _ server: AnalyticsServer, ids: [String], parts: [ConversationPart] = [.conversation, .analytics],
        batchSize: Int = 100, folder: borrowing TemporaryDirectory
    ) async throws -> FetchSummary {
        var configuration = FetchConfiguration(apiBase: URL(string: "http://127.0.0.1:1")!)
        configuration.parts = parts
        configuration.concurrency = 8
        configuration.maxAttempts = 3
        configuration.analyticsBatchSize = batchSize
        configuration.backoff = Backoff(base: .milliseconds(1), cap: .milliseconds(2))
        configuration.limiter.initialRate = 100_000
        let engine = FetchEngine(configuration: configuration, transport: server, clock: ContinuousClock())
        let store = try OutputStore(outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson"))
        return try await engine.run(ids: lines(ids), store: store)
    }

    /// Each record's `analytics`, by id.
    static func analytics(in folder: borrowing TemporaryDirectory) throws -> [String: String] {
        var found: [String: String] = [:]
        for line in try readLines(folder.file("o.ndjson")) {
            let id = String(line.dropFirst(7).prefix(36))
            let range = try #require(line.range(of: #","analytics":"#, options: .backwards))
            found[id] = String(line[range.upperBound...].dropLast())  // the last key: `…}` of the record
        }
        return found
    }

    @Test func anAnswerSplitsIntoEachDocumentVerbatim() throws {
        let a = "00000000-0000-4000-8000-00000000000a"
        let b = "00000000-0000-4000-8000-00000000000b"
        let body =
            #" { "totalHits":2, "conversations" : [ {"x":{"conversationId":"nested"}, "conversationId" : "\#(a)"},"#
            + #"{"conversationId":"\#(b.uppercased())","n":[1, 2.50]} ] } "#
        let split = try #require(AnalyticsBatch.split(Array(body.utf8)))
        #expect(split.count == 2)
        #expect(
            split[ConversationID(a)!].map { String(decoding: $0, as: UTF8.self) }
                == #"{"x":{"conversationId":"nested"},"conversationId":"\#(a)"}"#)
        #expect(
            split[ConversationID(b)!].map { String(decoding: $0, as: UTF8.self) }
                == #"{"conversationId":"\#(b.uppercased())","n":[1,2.50]}"#)
        #expect(AnalyticsBatch.split(Array("{}".utf8)) == [:], "Genesys leaves out an empty list")
        for malformed in [
            "[]", #"{"conversations":{}}"#, #"{"conversations":[1]}"#, #"{"conversations":[{"conversationId":"x"}]}"#,
            #"{"conversations":[{"id":"\#(a)"}]}"#, #"{"conversations":[{"conversationId":"\#(a)"}"#, "<html>",
        ] {
            #expect(AnalyticsBatch.split(Array(malformed.utf8)) == nil, "\(malformed)")
        }
    }

    @Test func analyticsGoInBatchesAndLandVerbatim() async throws {
        let folder = try TemporaryDirectory()
        let ids = makeIDs(250)
        let server = AnalyticsServer(missing: [ids[7]])
        let summary = try await Self.run(server, ids: ids, folder: folder)
        #expect(summary.fetched == 250 && summary.failed == 0)
        #expect(server.batches.withLock { $0.map(\.count) } == [100, 100, 50])
        #expect(Set(server.batches.withLock { $0.joined() }) == Set(ids), "each id in exactly one batch")
        #expect(server.single.withLock { $0 }.isEmpty)
        #expect(summary.requests == 253 && summary.analyticsBatches == 3 && summary.analyticsBatchSize == 100)
        let analytics = try Self.analytics(in: folder)
        for id in ids where id != ids[7] {
            #expect(analytics[id] == AnalyticsServer.document(id), "the per-id document's bytes, for \(id)")
        }
        #expect(analytics[ids[7]] == "null", "a conversation the batch does not list has no analytics")
    }

    @Test func aStalledInputSendsThePartialBatchAfterALinger() async throws {
        let folder = try TemporaryDirectory()
        let ids = makeIDs(10)
        let (input, feed) = AsyncStream<IDReader.Element>.makeStream()
        for (index, id) in ids.prefix(5).enumerated() { feed.yield((index + 1, InputLine(parsing: Substring(id)))) }
        let server = AnalyticsServer()
        var configuration = FetchConfiguration(apiBase: URL(string: "http://127.0.0.1:1")!)
        configuration.parts = [.conversation, .analytics]
        configuration.limiter.initialRate = 100_000
        let engine = FetchEngine(configuration: configuration, transport: server, clock: ContinuousClock())
        let store = UncheckedBox(
            try OutputStore(outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson")))
        let run = Task { try await engine.run(ids: input, store: store.value) }
        try await waitUntil { (try? idsIn(folder.file("o.ndjson")))?.count == 5 }
        let batches = server.batches.withLock { $0 }  // in the order the conversations answered
        #expect(batches.count == 1 && Set(batches[0]) == Set(ids.prefix(5)), "five ids in one batch, input still open")
        for (index, id) in ids.suffix(5).enumerated() { feed.yield((index + 6, InputLine(parsing: Substring(id)))) }
        feed.finish()
        let summary = try await run.value
        #expect(summary.fetched == 10 && summary.analyticsBatches == 2)
        #expect(
            try Self.analytics(in: folder)
                == Dictionary(uniqueKeysWithValues: ids.map { ($0, AnalyticsServer.document($0)) }))
    }

    @Test func aBatchRefusedAsTooLargeHalvesTheSizeForTheRun() async throws {
        let folder = try TemporaryDirectory()
        let ids = makeIDs(300)
        let server = AnalyticsServer(maximum: 30)
        let summary = try await Self.run(server, ids: ids, folder: folder)
        #expect(summary.fetched == 300 && summary.failed == 0)
        #expect(summary.analyticsBatchSize == 25 && summary.analyticsBatchRefusal == "HTTP 400 for 100 ids")
        let sizes = server.batches.withLock { $0.map(\.count) }
        #expect(sizes.first == 100 && sizes.contains(50) && sizes.filter { $0 > 30 }.count <= 6, "\(sizes)")
        #expect(sizes.count <= 20 && server.single.withLock { $0 }.isEmpty, "halves, never per id: \(sizes)")
        let analytics = try Self.analytics(in: folder)
        #expect(ids.allSatisfy { analytics[$0] == AnalyticsServer.document($0) })
    }

    @Test func oneFailingIDSinksOnlyItself() async throws {
        let folder = try TemporaryDirectory()
        let ids = makeIDs(100)
        let bad = ids[41]
        let server = AnalyticsServer(poisoned: [bad])
        let summary = try await Self.run(server, ids: ids, folder: folder)
        #expect(summary.fetched == 99 && summary.failed == 1)
        let errors = try readLines(folder.file("e.ndjson"))
        #expect(errors.count == 1 && errors[0].contains(bad) && errors[0].contains(#""part":"analytics""#))
        #expect(errors[0].contains(#""status":500"#) && errors[0].contains(#""retryable":true"#))
        // Whole twice, then halves (which half holds it depends on the order the conversations
        // answered): 100, 50, 25, then 12 or 13, … down to the id on its own.
        let failing = server.batches.withLock { $0.filter { $0.contains(bad) }.map(\.count) }
        #expect(Array(failing.prefix(6)) == [100, 100, 50, 50, 25, 25], "\(failing)")
        #expect(stride(from: 0, to: failing.count, by: 2).allSatisfy { failing[$0] == failing[$0 + 1] }, "each twice")
        #expect(zip(failing, failing.dropFirst()).allSatisfy { $0 >= $1 } && [2, 3].contains(failing.last))
        let single = server.single.withLock { $0 }
        #expect(single.filter { $0 == bad }.count == 3, "on its own until its attempts are spent")
        #expect(single.count <= 5, "and at most two other halves of one per id: \(single)")
        let analytics = try Self.analytics(in: folder)
        #expect(ids.filter { $0 != bad }.allSatisfy { analytics[$0] == AnalyticsServer.document($0) })
    }

    @Test func withAnalyticsFirstAnIDTheBatchLeavesOutIsAskedOnItsOwn() async throws {
        let folder = try TemporaryDirectory()
        let ids = makeIDs(20)
        let server = AnalyticsServer(missing: [ids[3]])
        let summary = try await Self.run(server, ids: ids, parts: [.analytics], folder: folder)
        #expect(summary.fetched == 19 && summary.failed == 1)
        #expect(server.single.withLock { $0 } == [ids[3]], "does it exist? only the per-id answer can say")
        let errors = try readLines(folder.file("e.ndjson"))
        #expect(errors.count == 1 && errors[0].contains(ids[3]) && errors[0].contains("not found (HTTP 404)"))
    }

    @Test(arguments: [100, 1]) func aMissingPermissionStopsTheRunNamingIt(batchSize: Int) async throws {
        let folder = try TemporaryDirectory()
        let ids = makeIDs(2000)
        let server = AnalyticsServer(forbidden: Set(ids))
        var stopped: ConvoyError?
        do {
            _ = try await Self.run(server, ids: ids, batchSize: batchSize, folder: folder)
        } catch let error as ConvoyError {
            stopped = error
        }
        let message = try #require(stopped?.message)
        #expect(message.contains("analytics:conversationDetail:view") && message.contains("403"))
        let asked = server.single.withLock { $0.count }
        #expect(asked >= 25 && asked <= 25 + 8, "the first 25 refusals stop it, with 8 in flight: \(asked)")
        #expect(server.batches.withLock { $0.count } == (batchSize > 1 ? 1 : 0))
        #expect(try readLines(folder.file("e.ndjson")).isEmpty, "no error per id: a re-run fetches them all")
        #expect(try readLines(folder.file("o.ndjson")).isEmpty)
    }

    @Test func aFewForbiddenConversationsAreRecordedOnceThePartIsPermitted() async throws {
        let folder = try TemporaryDirectory()
        let ids = makeIDs(60)
        let hidden = Set(ids.prefix(3))  // the very first answers are 403s
        let server = AnalyticsServer(forbidden: hidden)
        let summary = try await Self.run(server, ids: ids, batchSize: 1, folder: folder)
        #expect(summary.fetched == 57 && summary.failed == 3)
        let errors = try readLines(folder.file("e.ndjson"))
        #expect(Set(errors.map { String($0.dropFirst(7).prefix(36)) }) == hidden)
        #expect(errors.allSatisfy { $0.contains(#""status":403"#) && $0.contains(#""part":"analytics""#) })
    }

    @Test func aSmallRunWhosePartIsAlwaysRefusedStillRecordsEveryID() async throws {
        let folder = try TemporaryDirectory()
        let ids = makeIDs(5)
        let server = AnalyticsServer(forbidden: Set(ids))
        let summary = try await Self.run(server, ids: ids, folder: folder)
        #expect(summary.fetched == 0 && summary.failed == 5, "fewer refusals than the limit: one error each")
        #expect(try readLines(folder.file("e.ndjson")).count == 5)
    }
}
