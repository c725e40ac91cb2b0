import ConvoyMock
import Foundation
import Testing

@Suite("MockAPIServer: messaging conversations and bulk message bodies", .timeLimit(.minutes(1)))
struct MockMessagingTests {
    private static let ids = MockConversationStore.sampleIDs(count: 120, seed: 41)
    private static let messaging = ids.filter { MockConversationStore.isMessaging($0) }
    private static let voice = ids.filter { !MockConversationStore.isMessaging($0) }

    /// The message ids listed in a messaging document, in document order.
    private static func listedIDs(_ document: [String: Any]) -> [String] {
        let participants = document["participants"] as? [[String: Any]] ?? []
        // MessageMediaParticipant.messages is a flat list of MessageDetails.
        return participants.flatMap { participant in
            (participant["messages"] as? [[String: Any]] ?? []).compactMap { $0["messageId"] as? String }
        }
    }

    @Test("messaging documents: consistent with the conversation, 1–40 messages, nil for voice")
    func documents() throws {
        #expect(!Self.messaging.isEmpty && !Self.voice.isEmpty)
        for id in Self.voice.prefix(10) {
            #expect(MockConversationStore.messagingDocument(id: id) == nil)
            #expect(MockConversationStore.messageIDs(conversationID: id).isEmpty)
        }
        var counts = Set<Int>()
        for id in Self.messaging {
            let data = try #require(MockConversationStore.messagingDocument(id: id))
            #expect(data == MockConversationStore.messagingDocument(id: id))
            let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let conversation = try #require(
                try JSONSerialization.jsonObject(with: MockConversationStore.conversationDocument(id: id))
                    as? [String: Any])
            #expect(document["id"] as? String == id)
            #expect(document["selfUri"] as? String == "/api/v2/conversations/messages/\(id)")
            // MessageConversation has no start or end of its own: its participants carry the times.
            #expect(document["startTime"] == nil && document["endTime"] == nil)
            let participants = try #require(document["participants"] as? [[String: Any]])
            let original = try #require(conversation["participants"] as? [[String: Any]])
            #expect(participants.map { $0["id"] as? String } == original.map { $0["id"] as? String })
            #expect(participants.map { $0["purpose"] as? String } == original.map { $0["purpose"] as? String })
            for (participant, originalParticipant) in zip(participants, original) {
                let records = try #require(participant["messages"] as? [[String: Any]])
                let originalMedia = try #require(originalParticipant["messages"] as? [[String: Any]])
                #expect(participant["type"] as? String == originalMedia.first?["type"] as? String)
                #expect(participant["startTime"] as? String == originalParticipant["startTime"] as? String)
                #expect(participant["endTime"] as? String == originalParticipant["endTime"] as? String)
                #expect(participant["state"] as? String == "disconnected")
                // MessageMediaParticipant names its user and queue as entity references, not userId/queueId.
                #expect(participant["userId"] == nil && participant["queueId"] == nil)
                #expect(
                    (participant["user"] as? [String: Any])?["id"] as? String == originalParticipant["userId"]
                        as? String)
                #expect(
                    (participant["queue"] as? [String: Any])?["id"] as? String == originalParticipant["queueId"]
                        as? String)
                for record in records {
                    #expect(record["messageId"] is String && record["messageTime"] is String)
                    let status = try #require(record["messageStatus"] as? String)
                    let allowed =
                        participant["purpose"] as? String == "customer" ? ["received"] : ["delivery-success", "read"]
                    #expect(allowed.contains(status), "\(status) from the MessageDetails enum")
                    #expect(record["messageSegmentCount"] is Int && record["messageURI"] is String)
                }
            }
            // The conversation document's own message ids come first; every listed id is a message id.
            let ownIDs = original.flatMap { participant in
                (participant["messages"] as? [[String: Any]] ?? []).flatMap { media in
                    (media["messages"] as? [[String: Any]] ?? []).compactMap { $0["messageId"] as? String }
                }
            }
            let messageIDs = MockConversationStore.messageIDs(conversationID: id)
            #expect(Array(messageIDs.prefix(ownIDs.count)) == ownIDs)
            #expect(Set(Self.listedIDs(document)) == Set(messageIDs))
            #expect(Set(messageIDs).count == messageIDs.count)
            #expect((1...40).contains(messageIDs.count))
            counts.insert(messageIDs.count)
            // A shorter thread is a prefix of a longer one.
            #expect(MockConversationStore.messageIDs(conversationID: id, messageCount: 60).starts(with: messageIDs))
        }
        #expect(counts.count > 5)
    }

    @Test("GET messaging conversation: 200 as in the store, 404 for voice and missing, 400 for non-UUID")
    func endpoint() throws {
        try withServer(MockServerConfiguration(missingPerMille: 200)) { server in
            let client = try LoopbackClient(port: server.port)
            for id in Self.messaging.prefix(12) {
                let response = try client.get("/api/v2/conversations/messages/\(id)")
                if MockConversationStore.exists(id, missingPerMille: 200) {
                    #expect(response.status == 200)
                    #expect(Data(response.body) == MockConversationStore.messagingDocument(id: id))
                } else {
                    #expect(response.status == 404)
                }
            }
            let voice = try #require(Self.voice.first { MockConversationStore.exists($0, missingPerMille: 200) })
            let voiceResponse = try client.get("/api/v2/conversations/messages/\(voice)")
            #expect(voiceResponse.status == 404)
            #expect(try voiceResponse.jsonObject()["code"] as? String == "not.found")
            #expect(try client.get("/api/v2/conversations/messages/nope").status == 400)
            #expect(server.counters().requestsByPath["messages"] == 14)
        }
    }

    @Test("bulk: MessageData for this conversation's ids in the order asked, text in normalizedMessage; 1,000 at most")
    func bulk() throws {
        let configuration = MockServerConfiguration(messagesPerConversation: 2_500)
        try withServer(configuration) { server in
            let client = try LoopbackClient(port: server.port)
            let id = Self.messaging[0]
            let path = "/api/v2/conversations/messages/\(id)/messages/bulk"

            let document = try client.get("/api/v2/conversations/messages/\(id)")
            let listed = Self.listedIDs(try document.jsonObject())
            let messageIDs = MockConversationStore.messageIDs(conversationID: id, messageCount: 2_500)
            #expect(listed.count == 2_500)
            #expect(Set(listed) == Set(messageIDs))
            #expect(Data(document.body) == MockConversationStore.messagingDocument(id: id, messageCount: 2_500))

            // Three batches of at most 1,000 cover every message exactly once.
            var bodies: [String: [String: Any]] = [:]
            for start in stride(from: 0, to: messageIDs.count, by: 1_000) {
                let batch = Array(messageIDs[start..<min(start + 1_000, messageIDs.count)])
                let body = String(decoding: try JSONSerialization.data(withJSONObject: batch), as: UTF8.self)
                let response = try client.post(path, body: body)
                #expect(response.status == 200)
                let entities = try #require(try response.jsonObject()["entities"] as? [[String: Any]])
                #expect(entities.map { $0["id"] as? String } == batch)
                for entity in entities { bodies[entity["id"] as? String ?? ""] = entity }
            }
            #expect(bodies.count == 2_500)

            // Entity shape, and agreement with the messaging document's records.
            let records = try #require(try document.jsonObject()["participants"] as? [[String: Any]])
                .flatMap { $0["messages"] as? [[String: Any]] ?? [] }
            #expect(records.count == 2_500)
            var attachments = 0
            for record in records.prefix(200) {
                let entity = try #require(bodies[record["messageId"] as? String ?? ""])
                #expect(entity["timestamp"] as? String == record["messageTime"] as? String)
                #expect(entity["status"] as? String == record["messageStatus"] as? String)
                #expect(["inbound", "outbound"].contains(entity["direction"] as? String ?? ""))
                #expect(entity["conversationId"] as? String == id)
                // MessageData has no textBody or media: the text and attachments are in normalizedMessage.
                #expect(entity["textBody"] == nil && entity["media"] == nil)
                let message = try #require(entity["normalizedMessage"] as? [String: Any])
                #expect(message["id"] as? String == record["messageId"] as? String)
                #expect(message["type"] as? String == "Text" && message["text"] is String)
                #expect(
                    message["direction"] as? String
                        == (entity["direction"] as? String == "inbound" ? "Inbound" : "Outbound"))
                let channel = try #require(message["channel"] as? [String: Any])
                #expect(["WebMessaging", "Sms", "Whatsapp"].contains(channel["platform"] as? String ?? ""))
                for content in message["content"] as? [[String: Any]] ?? [] {
                    #expect(content["contentType"] as? String == "Attachment")
                    let attachment = try #require(content["attachment"] as? [String: Any])
                    #expect(
                        attachment["mediaType"] as? String == "Image" && attachment["mime"] as? String == "image/png")
                    attachments += 1
                }
            }
            #expect(attachments > 0, "about one message in ten has an attachment")

            // Foreign and unknown ids are left out; duplicates answered once; useNormalizedMessage changes nothing.
            let foreign = MockConversationStore.messageIDs(conversationID: Self.messaging[1], messageCount: 3)
            let mixed = [messageIDs[5], foreign[0], "not-an-id", messageIDs[2], messageIDs[5]]
            let mixedBody = String(decoding: try JSONSerialization.data(withJSONObject: mixed), as: UTF8.self)
            let normalized = try client.post(path + "?useNormalizedMessage=true", body: mixedBody)
            let entities = try #require(try normalized.jsonObject()["entities"] as? [[String: Any]])
            #expect(entities.map { $0["id"] as? String } == [messageIDs[5], messageIDs[2]])
            #expect(entities.map { ($0["normalizedMessage"] as? [String: Any])?["text"] is String } == [true, true])
            // Same bytes for the same ids, with or without the parameter: bodies are deterministic.
            #expect(try client.post(path, body: mixedBody).body == normalized.body)

            // Limits and malformed bodies.
            let tooMany = String(
                decoding: try JSONSerialization.data(withJSONObject: Array(messageIDs.prefix(1_001))), as: UTF8.self)
            let rejected = try client.post(path, body: tooMany)
            #expect(rejected.status == 400)
            #expect(try rejected.jsonObject()["code"] as? String == "bad.request")
            #expect(try client.post(path, body: #"{"ids":[]}"#).status == 400)
            #expect(try client.post(path, body: "[1,2]").status == 400)
            #expect(try client.post(path, body: "[]").status == 200)
            #expect(try client.get(path).status == 405)
            let voicePath = "/api/v2/conversations/messages/\(Self.voice[0])/messages/bulk"
            #expect(try client.post(voicePath, body: "[]").status == 404)
            #expect(server.counters().requestsByPath["messagesBulk"] == 11)
        }
    }
}
