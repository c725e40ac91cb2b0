import ConvoyMock
import Foundation
import Testing

@Suite("MockAPIServer: the synchronous conversation details query", .timeLimit(.minutes(1)))
struct MockAnalyticsQueryTests {
    private static let queryPath = "/api/v2/analytics/conversations/details/query"

    private static func day(_ month: Int, _ day: Int) -> Date { AnalyticsDates.day(month, day) }
    private static func iso(_ date: Date) -> String { AnalyticsDates.iso(date) }

    /// A query body over `interval`, with `paging` when a page size is given, and optional extra members (JSON).
    private static func body(
        _ interval: Range<Date>, pageSize: Int? = nil, pageNumber: Int = 1, _ extra: String = ""
    ) -> String {
        var members = [
            #""interval":""# + iso(interval.lowerBound) + "/" + iso(interval.upperBound) + #"""#,
            #""order":"asc","orderBy":"conversationStart""#,
        ]
        if let pageSize { members.append(#""paging":{"pageSize":\#(pageSize),"pageNumber":\#(pageNumber)}"#) }
        if !extra.isEmpty { members.append(extra) }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// One page of the query: its conversation ids (`nil` when the body has no `conversations` key) and `totalHits`.
    private static func page(
        _ client: LoopbackClient, _ body: String
    ) throws -> (ids: [String]?, totalHits: Int?) {
        let response = try client.post(queryPath, body: body)
        guard response.status == 200 else {
            throw LoopbackClientError(description: "query: \(response.status) \(response.bodyText)")
        }
        let object = try response.jsonObject()
        let ids = (object["conversations"] as? [[String: Any]])?.map { $0["conversationId"] as? String ?? "" }
        return (ids, object["totalHits"] as? Int)
    }

    @Test("pages cover exactly the interval's conversations; totalHits; the empty page has no conversations")
    func paging() throws {
        // The availability cut-off does not bind the query.
        let configuration = MockServerConfiguration(
            missingPerMille: 100, analyticsAvailability: Self.day(3, 1))
        try withServer(configuration) { server in
            let client = try LoopbackClient(port: server.port)
            let interval = Self.day(2, 1)..<Self.day(6, 1)
            let expected = MockConversationStore.conversations(inInterval: interval, missingPerMille: 100)
            #expect((550...700).contains(expected.count))
            #expect(expected.count % 100 != 0)

            var ids: [String] = []
            var pageNumber = 1
            while true {
                let page = try Self.page(client, Self.body(interval, pageSize: 100, pageNumber: pageNumber))
                #expect(page.totalHits == expected.count)
                guard let pageIDs = page.ids else { break }
                #expect(pageIDs.count == min(100, expected.count - ids.count))
                ids += pageIDs
                pageNumber += 1
            }
            #expect(ids == expected)
            #expect(pageNumber == expected.count / 100 + 2)

            // The empty page is exactly {"totalHits":N}.
            let empty = try client.post(Self.queryPath, body: Self.body(interval, pageSize: 100, pageNumber: 50))
            #expect(empty.bodyText == #"{"totalHits":\#(expected.count)}"#)
            let nothing = try client.post(Self.queryPath, body: Self.body(Self.day(12, 28)..<Self.day(12, 31)))
            #expect(nothing.bodyText == #"{"totalHits":0}"#)

            // Without paging: the first 25. Descending order reverses the list.
            #expect(try Self.page(client, Self.body(interval)).ids == Array(expected.prefix(25)))
            let descending = try Self.page(
                client,
                #"{"interval":""# + Self.iso(interval.lowerBound) + "/" + Self.iso(interval.upperBound)
                    + #"","order":"desc","paging":{"pageSize":30,"pageNumber":2}}"#)
            #expect(descending.ids == Array(expected.reversed()[30..<60]))

            // Entries are the job results' entries; filters are the jobs' filters.
            let entry = try #require(
                try client.post(Self.queryPath, body: Self.body(interval, pageSize: 1)).jsonObject()["conversations"]
                    as? [[String: Any]])[0]
            #expect(entry["conversationId"] as? String == expected[0])
            #expect(entry["divisionIds"] as? [String] == MockConversationStore.divisionIDs(of: expected[0]))
            #expect(entry["participants"] is [[String: Any]])
            let messages = try Self.page(
                client,
                Self.body(
                    interval, pageSize: 100,
                    #""segmentFilters":[{"type":"and","predicates":[{"dimension":"mediaType","value":"message"}]}]"#))
            let expectedMessages = MockConversationStore.conversations(
                inInterval: interval, missingPerMille: 100, mediaType: "message")
            #expect(messages.totalHits == expectedMessages.count)
            #expect(messages.ids == Array(expectedMessages.prefix(100)))

            #expect(server.counters().requestsByPath["analyticsQuery"] == pageNumber + 6)
        }
    }

    @Test("bad requests → 400: page size outside 1...100, page number below 1, unsupported order, job-body errors")
    func badRequests() throws {
        try withServer { server in
            let client = try LoopbackClient(port: server.port)
            let interval = Self.day(2, 1)..<Self.day(3, 1)
            #expect(try Self.page(client, Self.body(interval, pageSize: 100)).ids?.count == 100)
            for bad in [
                Self.body(interval, pageSize: 101),
                Self.body(interval, pageSize: 0),
                Self.body(interval, pageSize: 10, pageNumber: 0),
                Self.body(interval, #""paging":{"pageSize":"10"}"#),
                Self.body(interval, #""order":"sideways""#),
                Self.body(interval, #""orderBy":"conversationEnd""#),
                Self.body(interval, #""segmentFilters":[{"predicates":[{"dimension":"queueId","value":"x"}]}]"#),
                #"{"interval":"2026-02-01T00:00:00Z/2026-01-01T00:00:00Z"}"#,
                #"{"paging":{"pageSize":10}}"#,
                #"[]"#,
            ] {
                let response = try client.post(Self.queryPath, body: bad)
                #expect(response.status == 400, "\(bad)")
                #expect(try response.jsonObject()["code"] as? String == "bad.request")
            }
            #expect(
                try client.post(Self.queryPath, body: Self.body(interval, pageSize: 101)).jsonObject()["message"]
                    as? String == "paging.pageSize must be an integer from 1 to 100")
            #expect(try client.get(Self.queryPath).status == 405)
        }
    }

    @Test("queryResultCap: a page reaching past it → 400; totalHits still counts every match")
    func cap() throws {
        try withServer(MockServerConfiguration(queryResultCap: 250)) { server in
            let client = try LoopbackClient(port: server.port)
            let interval = Self.day(1, 1)..<Self.day(12, 31)
            let expected = MockConversationStore.conversations(inInterval: interval)
            #expect(expected.count == 2_000)

            let second = try Self.page(client, Self.body(interval, pageSize: 100, pageNumber: 2))
            #expect(second.ids == Array(expected[100..<200]))
            #expect(second.totalHits == 2_000)
            // pageNumber × pageSize exactly at the cap is allowed.
            let fifth = try Self.page(client, Self.body(interval, pageSize: 50, pageNumber: 5))
            #expect(fifth.ids == Array(expected[200..<250]))
            #expect(fifth.totalHits == 2_000)

            for (pageSize, pageNumber) in [(100, 3), (50, 6), (1, 251), (100, Int.max / 10)] {
                let response = try client.post(
                    Self.queryPath, body: Self.body(interval, pageSize: pageSize, pageNumber: pageNumber))
                #expect(response.status == 400, "\(pageSize) × \(pageNumber)")
                #expect(
                    try response.jsonObject()["message"] as? String
                        == "Pagination may not exceed 250 results (pageNumber \(pageNumber), pageSize \(pageSize))")
            }
        }
    }
}
