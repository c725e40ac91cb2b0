import Convoy
import ConvoyMock
import Foundation
import Synchronization
import Testing

/// A Genesys-shaped API in memory for `--include`: routes by path, counts requests per route.
final class PartsTransport: HTTPTransport {
    let routes = Mutex<[String: Int]>([:])
    let bulkSizes = Mutex<[Int]>([])
    let messageCount: Int
    let failAnalytics: Bool

    init(messageCount: Int = 3, failAnalytics: Bool = false) {
        self.messageCount = messageCount
        self.failAnalytics = failAnalytics
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let path = request.url.path
        let parts = path.split(separator: "/").map(String.init)
        func hit(_ route: String) { routes.withLock { $0[route, default: 0] += 1 } }
        func json(_ text: String) -> HTTPResponse {
            HTTPResponse(status: 200, headers: FakeTransport.budget, body: Data(text.utf8))
        }
        let notFound = HTTPResponse(status: 404, headers: FakeTransport.budget, body: Data(#"{"status":404}"#.utf8))
        // /api/v2/conversations/messages/{id}/messages/bulk
        if path.hasSuffix("/messages/bulk") {
            hit("bulk")
            let ids = try JSONSerialization.jsonObject(with: request.body ?? Data()) as! [String]
            bulkSizes.withLock { $0.append(ids.count) }
            return json(#"{"entities":[\#(ids.map { #"{"id":"\#($0)","textBody":"hi"}"# }.joined(separator: ","))]}"#)
        }
        if parts.count == 5, parts[3] == "messages" {
            hit("messages")
            let id = parts[4]
            guard id.hasPrefix("0") else { return notFound }  // odd ids are voice calls
            let messages = (0..<messageCount).map { #"{"messageId":"m\#($0)"}"# }.joined(separator: ",")
            return json(#"{"id":"\#(id)","participants":[{"messages":[\#(messages)]}]}"#)
        }
        if parts.count == 5, path.hasSuffix("/details") {  // …/details?id=a,b: the batch endpoint
            hit("analyticsBatch")
            let ids =
                URLComponents(url: request.url, resolvingAgainstBaseURL: false)?.queryItems?
                .first { $0.name == "id" }?.value?.split(separator: ",") ?? []
            let documents = ids.map { #"{"conversationId":"\#($0)"}"# }.joined(separator: ",")
            return failAnalytics ? FakeTransport.status(503) : json(#"{"conversations":[\#(documents)]}"#)
        }
        if path.hasSuffix("/details") {
            hit("analytics")
            return failAnalytics ? FakeTransport.status(503) : json(#"{"conversationId":"\#(parts[4])"}"#)
        }
        if path.hasSuffix("/recordingmetadata") {
            hit("recordingmetadata")
            return json("[]")
        }
        hit("conversation")
        return json(#"{"id":"\#(parts[3])"}"#)
    }
}

@Suite(.timeLimit(.minutes(1))) struct FetchPartsTests {
    static func run(
        _ transport: PartsTransport, parts: [ConversationPart], ids: [String], folder: borrowing TemporaryDirectory
    ) async throws -> FetchSummary {
        var configuration = FetchConfiguration(apiBase: URL(string: "http://127.0.0.1:1")!)
        configuration.parts = parts
        configuration.maxAttempts = 2
        configuration.backoff = Backoff(base: .milliseconds(1), cap: .milliseconds(2))
        configuration.limiter.initialRate = 100_000
        let engine = FetchEngine(configuration: configuration, transport: transport, clock: ContinuousClock())
        let store = try OutputStore(outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson"))
        return try await engine.run(ids: lines(ids), store: store)
    }

    @Test func everyPartLandsInOneRecordInOrder() async throws {
        let folder = try TemporaryDirectory()
        let ids = ["00000000-0000-4000-8000-000000000001", "10000000-0000-4000-8000-000000000002"]
        let transport = PartsTransport()
        let summary = try await Self.run(
            transport, parts: [.conversation, .analytics, .recordingmetadata, .messages], ids: ids, folder: folder)
        #expect(summary.fetched == 2 && summary.failed == 0)
        let records = try readLines(folder.file("o.ndjson")).sorted()
        #expect(
            records[0].hasSuffix(
                #""conversation":{"id":"\#(ids[0])"},"analytics":{"conversationId":"\#(ids[0])"},"recordingmetadata":[],"#
                    + #""messages":{"id":"\#(ids[0])","participants":[{"messages":[{"messageId":"m0"},{"messageId":"m1"},{"messageId":"m2"}]}]},"#
                    + #""messageBodies":[{"entities":[{"id":"m0","textBody":"hi"},{"id":"m1","textBody":"hi"},{"id":"m2","textBody":"hi"}]}]}"#
            ))
        #expect(records[0].contains(#""attempts":5"#), "five requests for the messaging conversation")
        #expect(records[1].hasSuffix(#""messages":null,"messageBodies":null}"#), "a voice call has no messages")
        #expect(
            transport.routes.withLock { $0 } == [
                "conversation": 2, "analyticsBatch": 1, "recordingmetadata": 2, "messages": 2, "bulk": 1,
            ], "one analytics request for both conversations")
    }

    @Test func messageBodiesGoInBatchesOfAThousand() async throws {
        let folder = try TemporaryDirectory()
        let transport = PartsTransport(messageCount: 2500)
        _ = try await Self.run(
            transport, parts: [.messages], ids: ["00000000-0000-4000-8000-000000000001"], folder: folder)
        #expect(transport.bulkSizes.withLock { $0 } == [1000, 1000, 500])
        let record = try readLines(folder.file("o.ndjson"))[0]
        let object = try JSONSerialization.jsonObject(with: Data(record.utf8)) as! [String: Any]
        let bodies = object["messageBodies"] as! [[String: Any]]
        #expect(bodies.map { ($0["entities"] as! [Any]).count } == [1000, 1000, 500])
    }

    @Test func aFailingPartIsRecordedWithItsNameNotDropped() async throws {
        let folder = try TemporaryDirectory()
        let transport = PartsTransport(failAnalytics: true)
        let id = "00000000-0000-4000-8000-000000000001"
        let summary = try await Self.run(transport, parts: [.conversation, .analytics], ids: [id], folder: folder)
        #expect(summary.fetched == 0 && summary.failed == 1)
        #expect(
            transport.routes.withLock { $0 } == ["conversation": 1, "analyticsBatch": 2, "analytics": 2],
            "the batch twice, then the id on its own until it runs out of attempts")
        #expect(try readLines(folder.file("o.ndjson")).isEmpty, "no partial record")
        let error = try readLines(folder.file("e.ndjson"))[0]
        #expect(
            error.contains(#""part":"analytics""#) && error.contains(#""status":503"#)
                && error.contains(#""retryable":true"#))
    }

    @Test func includeListsAreParsedStrictly() throws {
        #expect(try ConversationPart.parseList("conversation, analytics,analytics") == [.conversation, .analytics])
        #expect(throws: ConvoyError.self) { try ConversationPart.parseList("conversation,transcripts") }
        #expect(throws: ConvoyError.self) { try ConversationPart.parseList(",") }
    }
}
