import ConvoyMock
import Foundation
import Testing

@Suite("MockAPIServer: analytics details and recording metadata", .timeLimit(.minutes(1)))
struct MockAnalyticsTests {
    private static let ids = MockConversationStore.sampleIDs(count: 200, seed: 31)

    /// The conversation document of `id`, parsed.
    private static func conversation(_ id: String) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: MockConversationStore.conversationDocument(id: id)) as? [String: Any]
        )
    }

    @Test("analytics details agree with the conversation document: times, divisions, participants, sessions")
    func analyticsConsistency() throws {
        var sawVoice = false
        var sawMessaging = false
        for id in Self.ids.prefix(60) {
            let data = MockConversationStore.analyticsDocument(id: id)
            #expect(data == MockConversationStore.analyticsDocument(id: id.uppercased()))
            let analytics = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let conversation = try Self.conversation(id)
            #expect(analytics["conversationId"] as? String == id)
            #expect(analytics["conversationStart"] as? String == conversation["startTime"] as? String)
            #expect(analytics["conversationEnd"] as? String == conversation["endTime"] as? String)
            #expect(analytics["originatingDirection"] as? String == "inbound")
            let divisions = try #require(conversation["divisions"] as? [[String: Any]])
            let divisionIDs = divisions.compactMap { ($0["division"] as? [String: Any])?["id"] as? String }
            #expect(analytics["divisionIds"] as? [String] == divisionIDs)
            #expect(MockConversationStore.divisionIDs(of: id) == divisionIDs)

            let participants = try #require(conversation["participants"] as? [[String: Any]])
            let analyticsParticipants = try #require(analytics["participants"] as? [[String: Any]])
            #expect(
                analyticsParticipants.map { $0["participantId"] as? String } == participants.map { $0["id"] as? String }
            )
            #expect(
                analyticsParticipants.map { $0["purpose"] as? String } == participants.map { $0["purpose"] as? String })
            #expect(
                analyticsParticipants.map { $0["userId"] as? String } == participants.map { $0["userId"] as? String })
            let isMessaging = MockConversationStore.isMessaging(id)
            #expect(isMessaging == (participants[0]["messages"] != nil))
            #expect(
                (analytics["mediaStatsMinConversationMos"] as? Double).map { (3.5...5).contains($0) } ?? isMessaging)
            if isMessaging { sawMessaging = true } else { sawVoice = true }
            for (participant, analyticsParticipant) in zip(participants, analyticsParticipants) {
                let media = try #require((participant[isMessaging ? "messages" : "calls"]) as? [[String: Any]])
                let sessions = try #require(analyticsParticipant["sessions"] as? [[String: Any]])
                #expect(sessions.map { $0["sessionId"] as? String } == media.map { $0["id"] as? String })
                for session in sessions {
                    #expect(session["mediaType"] as? String == (isMessaging ? "message" : "voice"))
                    let segments = try #require(session["segments"] as? [[String: Any]])
                    #expect(!segments.isEmpty)
                    for segment in segments {
                        let start = try #require(segment["segmentStart"] as? String)
                        let end = try #require(segment["segmentEnd"] as? String)
                        #expect(start <= end)
                        #expect(["interact", "ivr", "wrapup"].contains(segment["segmentType"] as? String ?? ""))
                    }
                    #expect(segments[0]["segmentStart"] as? String == media[0]["connectedTime"] as? String)
                    let metrics = try #require(session["metrics"] as? [[String: Any]])
                    for metric in metrics {
                        #expect(metric["name"] is String && metric["value"] is Int && metric["emitDate"] is String)
                    }
                }
            }
        }
        #expect(sawVoice && sawMessaging)
    }

    @Test("GET analytics details: 200 byte-identical to the store, 404 for missing, 400 for a non-UUID")
    func analyticsEndpoint() throws {
        try withServer(MockServerConfiguration(missingPerMille: 300)) { server in
            let client = try LoopbackClient(port: server.port)
            var missing = 0
            for id in Self.ids.prefix(20) {
                let response = try client.get("/api/v2/analytics/conversations/\(id)/details")
                if MockConversationStore.exists(id, missingPerMille: 300) {
                    #expect(response.status == 200)
                    #expect(Data(response.body) == MockConversationStore.analyticsDocument(id: id))
                } else {
                    missing += 1
                    #expect(response.status == 404)
                    #expect(try response.jsonObject()["code"] as? String == "not.found")
                }
            }
            #expect(missing > 0)
            #expect(try client.get("/api/v2/analytics/conversations/nope/details").status == 400)
            #expect(try client.post("/api/v2/analytics/conversations/\(Self.ids[0])/details", body: "").status == 405)
            #expect(server.counters().requestsByPath["analytics"] == 22)
        }
    }

    @Test("batch analytics: existing ones in the order asked, duplicates once, at most 100 ids")
    func analyticsBatch() throws {
        try withServer(MockServerConfiguration(missingPerMille: 300)) { server in
            let client = try LoopbackClient(port: server.port)
            let asked = Array(Self.ids.prefix(30).reversed()) + [Self.ids[29]]
            let response = try client.get("/api/v2/analytics/conversations/details?id=" + asked.joined(separator: ","))
            #expect(response.status == 200)
            let conversations = try #require(try response.jsonObject()["conversations"] as? [[String: Any]])
            let expected = Array(Self.ids.prefix(30).reversed()).filter {
                MockConversationStore.exists($0, missingPerMille: 300)
            }
            #expect(conversations.map { $0["conversationId"] as? String } == expected)
            #expect(expected.count < 30)
            let first = try JSONSerialization.data(withJSONObject: conversations[0], options: [.sortedKeys])
            let alone = try JSONSerialization.data(
                withJSONObject: JSONSerialization.jsonObject(
                    with: MockConversationStore.analyticsDocument(id: expected[0])),
                options: [.sortedKeys])
            #expect(first == alone)

            // Repeated parameters and percent-encoded commas work too.
            let split = try client.get(
                "/api/v2/analytics/conversations/details?id=\(Self.ids[0])%2C\(Self.ids[1])&id=\(Self.ids[2])")
            let splitIDs = try #require(try split.jsonObject()["conversations"] as? [[String: Any]]).map {
                $0["conversationId"] as? String
            }
            #expect(splitIDs == Self.ids.prefix(3).filter { MockConversationStore.exists($0, missingPerMille: 300) })

            let hundred = try client.get(
                "/api/v2/analytics/conversations/details?id=" + Self.ids.prefix(100).joined(separator: ","))
            #expect(hundred.status == 200)
            let tooMany = try client.get(
                "/api/v2/analytics/conversations/details?id=" + Self.ids.prefix(101).joined(separator: ","))
            #expect(tooMany.status == 400)
            #expect(try tooMany.jsonObject()["code"] as? String == "bad.request")
            #expect(try client.get("/api/v2/analytics/conversations/details").status == 400)
            #expect(try client.get("/api/v2/analytics/conversations/details?id=nope").status == 400)
            #expect(server.counters().requestsByPath["analyticsBatch"] == 6)
        }
    }

    @Test("recording metadata: 0–2 entries per id, consistent with the conversation, served as in the store")
    func recordingMetadata() throws {
        var counts: [Int: Int] = [:]
        for id in Self.ids {
            let data = MockConversationStore.recordingMetadataDocument(id: id)
            #expect(data == MockConversationStore.recordingMetadataDocument(id: id))
            let entries = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
            counts[entries.count, default: 0] += 1
            let conversation = try Self.conversation(id)
            let isMessaging = MockConversationStore.isMessaging(id)
            if conversation["recordingState"] as? String == "NONE" { #expect(entries.isEmpty) }
            #expect((0...(isMessaging ? 1 : 2)).contains(entries.count))
            let participants = try #require(conversation["participants"] as? [[String: Any]])
            let agentSessions = participants.filter { $0["purpose"] as? String == "agent" }.flatMap {
                ($0[isMessaging ? "messages" : "calls"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            }
            let start = try #require(conversation["startTime"] as? String)
            let end = try #require(conversation["endTime"] as? String)
            for entry in entries {
                #expect(entry["conversationId"] as? String == id)
                #expect(UUID(uuidString: entry["id"] as? String ?? "") != nil)
                #expect(entry["media"] as? String == (isMessaging ? "message" : "audio"))
                #expect(["AVAILABLE", "ARCHIVED"].contains(entry["fileState"] as? String ?? ""))
                if entry["fileState"] as? String == "ARCHIVED" { #expect(entry["archiveDate"] is String) }
                #expect((entry["annotations"] as? [Any])?.isEmpty == true)
                #expect(agentSessions.contains(entry["sessionId"] as? String ?? ""))
                #expect(entry["region"] is String)
                let entryStart = try #require(entry["startTime"] as? String)
                let entryEnd = try #require(entry["endTime"] as? String)
                #expect(start <= entryStart && entryStart <= entryEnd && entryEnd <= end)
            }
        }
        #expect(counts[0, default: 0] > 0 && counts[1, default: 0] > 0 && counts[2, default: 0] > 0)

        try withServer(MockServerConfiguration(missingPerMille: 300)) { server in
            let client = try LoopbackClient(port: server.port)
            for id in Self.ids.prefix(10) {
                let response = try client.get(conversationPath(id) + "/recordingmetadata")
                if MockConversationStore.exists(id, missingPerMille: 300) {
                    #expect(response.status == 200)
                    #expect(Data(response.body) == MockConversationStore.recordingMetadataDocument(id: id))
                } else {
                    #expect(response.status == 404)
                }
            }
            #expect(try client.get(conversationPath("nope") + "/recordingmetadata").status == 400)
            #expect(server.counters().requestsByPath["recordingmetadata"] == 11)
            #expect(server.counters().hitsByID.isEmpty)  // only the full-conversation route counts hits
        }
    }
}
