import Foundation
import Testing

@testable import ConvoyMock

/// The API contract without Python: every kind of document the mock serves, walked against the Genesys models in
/// `contract/genesys-models.json` (extracted from the official SDK by `contract/extract_schema.py`). The mock is not
/// the spec; the SDK's models are. `contract/check_contract.py` holds the same documents to the SDK itself.
@Suite("MockAPIServer: documents follow the Genesys SDK's models", .timeLimit(.minutes(1)))
struct MockContractTests {
    private static let ids = MockConversationStore.sampleIDs(count: 40)
    private static let oauth = MockOAuth(clientId: "contract", clientSecret: "secret")
    private static let year = #"{"interval":"2026-01-01T00:00:00.000Z/2027-01-01T00:00:00.000Z""#

    /// The documents of one kind, walked: how many, and every violation.
    private struct Walk {
        var schema: ModelSchema
        var documents: [String: Int] = [:]
        var violations: [String] = []

        mutating func check(_ kind: String, _ answer: ResponderHarness.Answer, as type: String) throws {
            try #require(
                answer.status == 200 || answer.status == 202 || answer.status == 429, "\(kind): \(answer.status)")
            let value = try JSONSerialization.jsonObject(with: Data(answer.response.body), options: .fragmentsAllowed)
            documents[kind, default: 0] += 1
            violations += schema.violations(of: value, as: type).map { "\(kind): \($0)" }
        }
    }

    @Test("the walk finds unknown keys, values outside an enum and wrong types, nothing else")
    func walker() throws {
        let schema = try ModelSchema.checkedIn()
        #expect(schema.version == "269.0.0")
        let transfer: [String: Any] = [
            "id": "t", "state": "Complete", "dateIssued": "2026-03-04T05:06:07.089Z",
            "initiator": ["id": "u"], "destination": ["userId": 7], "transferType": "attended",
        ]
        #expect(
            schema.violations(of: transfer, as: "TransferResponse") == [
                "type $.destination.userId: not str", "unknown key $.initiator.id",
                "enum $.transferType: attended",
            ])
        let details: [String: Any] = [
            "messageId": "m", "messageStatus": "delivered", "messageSegmentCount": true,
            "messageTime": "yesterday",
        ]
        #expect(
            schema.violations(of: [details], as: "list[MessageDetails]") == [
                "type $[0].messageSegmentCount: not int", "enum $[0].messageStatus: delivered",
                "type $[0].messageTime: not datetime",
            ])
        #expect(schema.violations(of: ["a": "b", "c": 1], as: "dict(str, str)") == ["type $.c: not str"])
        #expect(schema.violations(of: ["code": 16, "type": "q850", "phrase": NSNull()], as: "DisconnectReason") == [])
    }

    @Test("every document kind the mock serves: no unknown key, no value outside an enum, no wrong type")
    func documents() throws {
        var walk = Walk(schema: try ModelSchema.checkedIn())
        var server = ResponderHarness(MockServerConfiguration(oauth: Self.oauth, jobDelay: .milliseconds(500)))
        let credentials = Data("contract:secret".utf8).base64EncodedString()
        let token = try server.post(
            "/oauth/token",
            headers: [
                "Authorization": "Basic \(credentials)", "Content-Type": "application/x-www-form-urlencoded",
            ], body: "grant_type=client_credentials", at: .zero)
        try walk.check("token", token, as: "OAuthToken")
        let bearer = ["Authorization": "Bearer \(try #require(try token.response.jsonObject()["access_token"]))"]
        func get(_ path: String, at instant: Duration = .zero) throws -> ResponderHarness.Answer {
            try server.get(path, headers: bearer, at: instant)
        }
        func post(_ path: String, _ body: String, at instant: Duration = .zero) throws -> ResponderHarness.Answer {
            try server.post(path, headers: bearer, body: body, at: instant)
        }

        var messaging = 0
        for id in Self.ids {
            try walk.check("conversation", try get("/api/v2/conversations/\(id)"), as: "Conversation")
            try walk.check(
                "recordingMetadata", try get("/api/v2/conversations/\(id)/recordingmetadata"),
                as: "list[RecordingMetadata]")
            try walk.check(
                "analytics", try get("/api/v2/analytics/conversations/\(id)/details"),
                as: "AnalyticsConversationWithoutAttributes")
            guard MockConversationStore.isMessaging(id) else { continue }
            messaging += 1
            try walk.check(
                "messagingConversation", try get("/api/v2/conversations/messages/\(id)"), as: "MessageConversation")
            let messageIDs = MockConversationStore.messageIDs(conversationID: id)
            let body = String(decoding: try JSONSerialization.data(withJSONObject: messageIDs), as: UTF8.self)
            try walk.check(
                "bulkMessages", try post("/api/v2/conversations/messages/\(id)/messages/bulk", body),
                as: "TextMessageListing")
        }
        for start in stride(from: 0, to: Self.ids.count, by: 10) {
            let batch = Self.ids[start..<start + 10].joined(separator: ",")
            try walk.check(
                "analyticsBatch", try get("/api/v2/analytics/conversations/details?id=\(batch)"),
                as: "AnalyticsConversationWithoutAttributesMultiGetResponse")
        }
        for page in 1...2 {
            try walk.check(
                "detailsQuery",
                try post(
                    "/api/v2/analytics/conversations/details/query",
                    Self.year + #","paging":{"pageSize":25,"pageNumber":\#(page)}}"#),
                as: "AnalyticsConversationQueryResponse")
        }

        let jobs = "/api/v2/analytics/conversations/details/jobs"
        let submitted = try post(jobs, #"{"interval":"2026-01-01T00:00:00.000Z/2026-02-01T00:00:00.000Z"}"#)
        try walk.check("jobSubmit", submitted, as: "AsyncQueryResponse")
        let job = try #require(try submitted.response.jsonObject()["jobId"] as? String)
        for instant in [Duration.zero, .milliseconds(100), .seconds(1)] {
            try walk.check("jobStatus", try get("\(jobs)/\(job)", at: instant), as: "AsyncQueryStatus")
        }
        var cursor: String?
        repeat {
            let page = try get(
                "\(jobs)/\(job)/results?pageSize=40" + (cursor.map { "&cursor=\($0)" } ?? ""), at: .seconds(1))
            try walk.check("jobResults", page, as: "AnalyticsConversationAsyncQueryResponse")
            cursor = try page.response.jsonObject()["cursor"] as? String
        } while cursor != nil
        try walk.check("availability", try get("\(jobs)/availability"), as: "DataAvailabilityResponse")

        // The 429s of a Genesys fixed window and of a gcra bucket: the normalized ErrorBody, with Retry-After.
        for limit in [
            MockRateLimit.fixedWindow(limit: 1, window: .seconds(60)), .leakyBucket(ratePerSecond: 1, burst: 0),
        ] {
            var limited = ResponderHarness(MockServerConfiguration(rateLimit: limit))
            let path = "/api/v2/conversations/\(Self.ids[0])"
            #expect(try limited.get(path, at: .zero).status == 200)
            let refused = try limited.get(path, at: .milliseconds(1))
            try walk.check("error429", refused, as: "ErrorBody")
            let wait = try #require(refused[header: "Retry-After"], "\(limit): no Retry-After")
            let body = try refused.response.jsonObject()
            #expect(body["code"] as? String == "too.many.requests.retry.after")
            #expect(
                body["message"] as? String == "Rate limit exceeded the maximum. Retry the request in [\(wait)] seconds")
        }

        #expect(walk.violations == [], "\(walk.violations.count) violations of the models")
        #expect(messaging > 5 && messaging < 30)
        #expect(
            walk.documents == [
                "token": 1, "conversation": 40, "recordingMetadata": 40, "analytics": 40,
                "messagingConversation": messaging, "bulkMessages": messaging, "analyticsBatch": 4, "detailsQuery": 2,
                "jobSubmit": 1, "jobStatus": 3, "jobResults": walk.documents["jobResults"] ?? 0, "availability": 1,
                "error429": 2,
            ])
        #expect((walk.documents["jobResults"] ?? 0) >= 2, "the job's results span pages")
    }
}
