import Foundation
import Testing

@testable import ConvoyMock

@Suite("Derived documents: basics, universe, timestamps, routes", .timeLimit(.minutes(1)))
struct MockDerivedDocumentsTests {
    @Test("the cheap basics agree with the full document: start time, media, division")
    func basics() throws {
        for id in MockConversationStore.sampleIDs(count: 300, seed: 51) {
            let document = try #require(
                try JSONSerialization.jsonObject(with: MockConversationStore.conversationDocument(id: id))
                    as? [String: Any])
            let start = try #require(document["startTime"] as? String)
            #expect(
                ISOTimestamp.milliseconds(start)
                    == MockConversationStore.milliseconds(MockConversationStore.startTime(of: id)))
            #expect(MockConversationStore.startTime(of: id.uppercased()) == MockConversationStore.startTime(of: id))
            let participants = try #require(document["participants"] as? [[String: Any]])
            #expect(MockConversationStore.isMessaging(id) == (participants[0]["messages"] != nil))
            let division = (document["divisions"] as? [[String: Any]])?.first?["division"] as? [String: Any]
            #expect(MockConversationStore.divisionIDs(of: id) == [division?["id"] as? String ?? ""])
            let facts = ConversationFacts(id: id)
            #expect(facts.start == ISOTimestamp.milliseconds(start))
            #expect(facts.isVoice == !MockConversationStore.isMessaging(id))
        }
    }

    @Test("the universe: default-seed sample ids, start times spread over 2026, sorted by start then id")
    func universe() {
        let universe = ConversationUniverse(size: 2_000)
        #expect(Set(universe.entries.map(\.id)) == Set(MockConversationStore.sampleIDs(count: 2_000)))
        let sorted = zip(universe.entries, universe.entries.dropFirst()).allSatisfy {
            ($0.start, $0.id) < ($1.start, $1.id)
        }
        #expect(sorted)
        var months = Set<Int>()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for entry in universe.entries {
            let date = MockConversationStore.date(milliseconds: entry.start)
            #expect(calendar.component(.year, from: date) == 2026)
            months.insert(calendar.component(.month, from: date))
        }
        #expect(months == Set(1...12))
        let year =
            MockConversationStore.date(milliseconds: 1_767_225_600_000)..<Date(timeIntervalSince1970: 1_798_761_600)
        #expect(MockConversationStore.conversations(inInterval: year).count == 2_000)
        #expect(MockConversationStore.conversations(inInterval: year, universeSize: 10).count == 10)
        // Both bounds count at millisecond precision: [start, start + 1 ms) holds exactly that conversation.
        let first = universe.entries[0]
        let instant = MockConversationStore.startTime(of: first.id)
        #expect(
            MockConversationStore.conversations(inInterval: instant..<instant.addingTimeInterval(0.001)) == [first.id])
        #expect(MockConversationStore.conversations(inInterval: instant..<instant).isEmpty)
    }

    @Test("ISO-8601 parsing: fractions, offsets, and rejections")
    func timestamps() {
        #expect(ISOTimestamp.milliseconds("2026-01-01T00:00:00.000Z") == 1_767_225_600_000)
        #expect(ISOTimestamp.milliseconds("2026-01-01T00:00:00Z") == 1_767_225_600_000)
        #expect(ISOTimestamp.milliseconds("2026-01-01T00:00:00.5Z") == 1_767_225_600_500)
        #expect(ISOTimestamp.milliseconds("2026-01-01T00:00:00.123456Z") == 1_767_225_600_123)
        #expect(ISOTimestamp.milliseconds("2026-01-01T02:00:00+02:00") == 1_767_225_600_000)
        #expect(ISOTimestamp.milliseconds("2025-12-31T19:00:00-0500") == 1_767_225_600_000)
        for text in ["2026-01-01", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00.Z", "x"] {
            #expect(ISOTimestamp.milliseconds(text) == nil, "\(text)")
        }
        for milliseconds: Int64 in [1_767_225_600_000, 1_772_323_199_999, 1_798_761_599_123] {
            #expect(ISOTimestamp.milliseconds(ConversationDocumentBuilder.timestamp(milliseconds)) == milliseconds)
        }
    }

    @Test("routes are recognised from the path alone")
    func routes() {
        let id = "0b0e5c1a-1b2c-4d3e-8f40-5a6b7c8d9e0f"
        let cases: [(String, MockRoute)] = [
            ("/api/v2/conversations/\(id)", .conversation(Substring(id))),
            ("/api/v2/conversations/messages", .conversation("messages")),
            ("/api/v2/conversations/\(id)/recordingmetadata", .recordingMetadata(Substring(id))),
            ("/api/v2/conversations/messages/\(id)", .messagingConversation(Substring(id))),
            ("/api/v2/conversations/messages/\(id)/messages/bulk", .messagesBulk(Substring(id))),
            ("/api/v2/analytics/conversations/\(id)/details", .analytics(Substring(id))),
            ("/api/v2/analytics/conversations/details", .analyticsBatch),
            ("/api/v2/analytics/conversations/details/query", .analyticsQuery),
            ("/api/v2/analytics/conversations/details/jobs", .jobsSubmit),
            ("/api/v2/analytics/conversations/details/jobs/availability", .jobsAvailability),
            ("/api/v2/analytics/conversations/details/jobs/j1", .jobStatus("j1")),
            ("/api/v2/analytics/conversations/details/jobs/j1/results", .jobResults("j1")),
            ("/api/v2/analytics/conversations/details/jobs/availability/results", .jobResults("availability")),
            ("/api/v2/analytics/conversations/details/query/x", .unknown),
            ("/oauth/token", .token),
            ("/", .unknown), ("/api/v2/conversations/", .unknown), ("/api/v2/conversations//x", .unknown),
            ("/api/v2/conversations/\(id)/wrapups", .unknown), ("/oauth/token/x", .unknown), ("/api/v3/x/y", .unknown),
        ]
        for (path, route) in cases { #expect(MockRoute(path: Substring(path)) == route, "\(path)") }
        #expect(Set(cases.compactMap { $0.1.counterName }) == MockCounters.routeNames)
    }

    @Test("cursors and tokens: base64url round trip; bearer and basic parsing")
    func encodings() {
        let cursor = AnalyticsJobStore.cursor(job: "job-1", offset: 370)
        #expect(!cursor.contains("=") && !cursor.contains("+") && !cursor.contains("/"))
        #expect(AnalyticsJobStore.offset(of: cursor, job: "job-1") == 370)
        #expect(AnalyticsJobStore.offset(of: cursor, job: "job-2") == nil)
        #expect(AnalyticsJobStore.offset(of: "%%%", job: "job-1") == nil)
        #expect(MockResponder.bearerToken("Bearer abc") == "abc")
        #expect(MockResponder.bearerToken("bearer  abc") == "abc")
        #expect(MockResponder.bearerToken("Basic abc") == nil)
        #expect(MockResponder.bearerToken("Bearer ") == nil)
        #expect(MockResponder.bearerToken(nil) == nil)
        let basic = MockResponder.basicCredentials("Basic " + Data("id:se:cret".utf8).base64EncodedString())
        #expect(basic?.id == "id" && basic?.secret == "se:cret")
        #expect(MockResponder.basicCredentials("Basic bm9jb2xvbg==") == nil)  // "nocolon"
    }
}
