import Foundation
import Testing

@testable import ConvoyMock

@Suite("MockConversationStore", .timeLimit(.minutes(1)))
struct MockConversationStoreTests {
    @Test("sample ids are deterministic, distinct, canonical lowercase UUIDs")
    func sampleIDs() {
        let ids = MockConversationStore.sampleIDs(count: 2_000)
        #expect(ids == MockConversationStore.sampleIDs(count: 2_000, seed: 42))
        #expect(ids != MockConversationStore.sampleIDs(count: 2_000, seed: 43))
        #expect(Set(ids).count == ids.count)
        #expect(MockConversationStore.sampleIDs(count: 0).isEmpty)
        for id in ids {
            #expect(id == id.lowercased())
            #expect(UUID(uuidString: id)?.uuidString.lowercased() == id)
        }
    }

    @Test("exists is a stable hash: same answer every call, about missingPerMille per thousand missing")
    func existsShare() {
        let ids = MockConversationStore.sampleIDs(count: 10_000, seed: 7)
        let missing = ids.filter { !MockConversationStore.exists($0, missingPerMille: 100) }
        #expect((850...1_150).contains(missing.count))
        // Deterministic, case-insensitive, and monotone in the threshold.
        for id in ids.prefix(500) {
            let exists = MockConversationStore.exists(id, missingPerMille: 100)
            #expect(MockConversationStore.exists(id.uppercased(), missingPerMille: 100) == exists)
            if !exists { #expect(!MockConversationStore.exists(id, missingPerMille: 200)) }
            #expect(MockConversationStore.exists(id, missingPerMille: 0))
            #expect(!MockConversationStore.exists(id, missingPerMille: 1_000))
        }
        // A pinned value guards against accidentally switching to a per-process seeded hash.
        #expect(MockConversationStore.bucket(of: "00000000-0000-4000-8000-000000000000") == 918)
        #expect(MockConversationStore.bucket(of: "4B0A7AC3-3A42-4A43-9B0E-6C4AD1C2A0A1") == 352)
        #expect(StableHash.fnv1a64("a") == 0xAF63_DC4C_8601_EC8C)
    }

    @Test("documents: valid JSON, same id, byte-identical, realistic shape (the model's fields filled), 1.5–6 KB")
    func documents() throws {
        let ids = MockConversationStore.sampleIDs(count: 400, seed: 3)
        var voice = 0
        for id in ids {
            let data = MockConversationStore.conversationDocument(id: id)
            #expect(data == MockConversationStore.conversationDocument(id: id))
            #expect((1_500...6_144).contains(data.count), "document of \(data.count) bytes")
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(object["id"] as? String == id)
            #expect(object["selfUri"] as? String == "/api/v2/conversations/\(id)")
            #expect(["ACTIVE", "PAUSED", "NONE"].contains(object["recordingState"] as? String ?? ""))
            #expect(object["state"] as? String == "disconnected")
            for transfer in object["recentTransfers"] as? [[String: Any]] ?? [] {
                let initiator = try #require(transfer["initiator"] as? [String: Any])
                #expect(Array(initiator.keys) == ["userId"], "TransferInitiator has only userId")
            }
            for key in [
                "externalTag", "startTime", "endTime", "conversationIds", "maxParticipants", "divisions",
                "recentTransfers", "securePause",
            ] {
                #expect(object[key] != nil, "missing \(key)")
            }
            let start = try #require(object["startTime"] as? String)
            #expect(start.hasPrefix("2026-") && start.hasSuffix("Z") && start.count == 24)
            let divisions = try #require(object["divisions"] as? [[String: Any]])
            #expect((divisions.first?["division"] as? [String: Any])?["selfUri"] != nil)
            let participants = try #require(object["participants"] as? [[String: Any]])
            #expect(participants.count >= 3)
            let isVoice = participants.allSatisfy { $0["calls"] != nil }
            let isMessaging = participants.allSatisfy { $0["messages"] != nil }
            #expect(isVoice != isMessaging)
            if isVoice { voice += 1 }
            for participant in participants {
                #expect(["customer", "agent", "acd", "ivr"].contains(participant["purpose"] as? String ?? ""))
                let attributes = try #require(participant["attributes"] as? [String: String])
                #expect(["true", "false"].contains(attributes["legal_hold"] ?? ""))
                if isVoice { #expect((participant["ani"] as? String)?.hasPrefix("tel:+1") == true) }
                #expect(participant["connectedTime"] as? String == participant["startTime"] as? String)
                if participant["queueId"] != nil { #expect(participant["queueName"] is String) }
                let type = participant["participantType"] as? String
                switch participant["purpose"] as? String {
                case "customer": #expect(type == "External")
                case "agent": #expect(type == "Internal")
                default: #expect(type == nil)
                }
                for call in participant["calls"] as? [[String: Any]] ?? [] {
                    let recording = try #require(call["recording"] as? Bool)
                    #expect(call["recordingState"] as? String == (recording ? "active" : "none"))
                    #expect(call["securePause"] as? Bool == false)
                    let segments = try #require(call["segments"] as? [[String: Any]])
                    #expect(segments.count == 1 && segments[0]["type"] as? String == "Interact")
                    #expect(segments[0]["startTime"] as? String == call["connectedTime"] as? String)
                    #expect(segments[0]["endTime"] as? String == call["disconnectedTime"] as? String)
                    #expect(segments[0]["disconnectType"] as? String == call["disconnectType"] as? String)
                    let reasons = try #require(call["disconnectReasons"] as? [[String: Any]])
                    #expect(
                        reasons.count == 1 && reasons[0]["type"] as? String == "q850"
                            && reasons[0]["code"] as? Int == 16)
                    if let wrapup = participant["wrapup"] as? [String: Any] {
                        #expect((call["wrapup"] as? [String: Any])?["code"] as? String == wrapup["code"] as? String)
                    } else {
                        #expect(call["wrapup"] == nil)
                    }
                }
                for media in participant["messages"] as? [[String: Any]] ?? [] {
                    let statuses = (media["messages"] as? [[String: Any]] ?? []).map { $0["messageStatus"] as? String }
                    let allowed =
                        participant["purpose"] as? String == "customer" ? ["received"] : ["delivery-success", "read"]
                    #expect(statuses.allSatisfy { allowed.contains($0 ?? "") }, "\(statuses)")
                }
            }
            if isMessaging {
                let media = try #require(participants[0]["messages"] as? [[String: Any]])
                #expect(["webmessaging", "sms", "whatsapp"].contains(media[0]["type"] as? String ?? ""))
            }
            // Every document exercises JSON string escapes.
            let hasEscapedQuote = String(decoding: data, as: UTF8.self).contains(#"\""#)
            #expect(hasEscapedQuote, "no escaped quote in \(id)")
        }
        #expect((200...280).contains(voice), "voice share \(voice) / 400")
    }

    @Test("the id is lowercased and pretty-printing keeps the same value")
    func prettyAndCase() throws {
        let id = MockConversationStore.sampleIDs(count: 1)[0]
        #expect(
            MockConversationStore.conversationDocument(id: id.uppercased())
                == MockConversationStore.conversationDocument(id: id))
        let pretty = MockConversationStore.documentBytes(id: id, pretty: true)
        #expect(pretty.filter { $0 == UInt8(ascii: "\n") }.count > 20)
        let fromPretty = try JSONSerialization.jsonObject(with: Data(pretty)) as? NSDictionary
        let fromCompact =
            try JSONSerialization.jsonObject(with: MockConversationStore.conversationDocument(id: id)) as? NSDictionary
        #expect(fromPretty == fromCompact)
    }

    @Test("JSON strings escape quotes, backslashes and control characters")
    func escaping() throws {
        let value = JSONValue.object([("text", .string("Zoë \"VIP\" Müller \\ \n\t\u{01}"))])
        let bytes = value.compactBytes()
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"text":"Zoë \"VIP\" Müller \\ \n\t\u0001"}"#)
        let parsed = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: String]
        #expect(parsed?["text"] == "Zoë \"VIP\" Müller \\ \n\t\u{01}")
    }

    @Test("timestamps are ISO-8601 UTC with milliseconds")
    func timestamps() {
        #expect(ConversationDocumentBuilder.timestamp(1_767_225_600_000) == "2026-01-01T00:00:00.000Z")
        #expect(ConversationDocumentBuilder.timestamp(1_772_323_199_999) == "2026-02-28T23:59:59.999Z")
        #expect(ConversationDocumentBuilder.timestamp(1_798_761_599_123) == "2026-12-31T23:59:59.123Z")
    }

    @Test("chunked framing: 2,048-byte chunks in hex sizes, a shorter last one, then the empty chunk")
    func chunkedFraming() throws {
        let body = (0..<5_000).map { UInt8(ascii: "a") + UInt8($0 % 26) }
        let bytes = MockResponder.serialize(status: 200, headers: [], body: body, keepAlive: true, chunked: true)
        let head =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            + "Connection: keep-alive\r\n\r\n"
        var expected = Array(head.utf8)
        expected += Array("800\r\n".utf8) + body[0..<2_048] + [13, 10]
        expected += Array("800\r\n".utf8) + body[2_048..<4_096] + [13, 10]
        expected += Array("388\r\n".utf8) + body[4_096...] + [13, 10]
        expected += Array("0\r\n\r\n".utf8)
        #expect(bytes == expected)
        let empty = MockResponder.serialize(status: 200, headers: [], body: [], keepAlive: false, chunked: true)
        #expect(String(decoding: empty, as: UTF8.self).hasSuffix("Connection: close\r\n\r\n0\r\n\r\n"))
    }

    @Test("Date headers are IMF-fixdates: weekday, day, month, year, time in whole seconds, GMT")
    func httpDates() {
        #expect(HTTPDate.string(milliseconds: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.string(milliseconds: 1_767_225_600_000) == "Thu, 01 Jan 2026 00:00:00 GMT")
        #expect(HTTPDate.string(milliseconds: 1_772_323_199_999) == "Sat, 28 Feb 2026 23:59:59 GMT")
        #expect(HTTPDate.string(milliseconds: 1_772_323_200_000) == "Sun, 01 Mar 2026 00:00:00 GMT")
        #expect(HTTPDate.string(milliseconds: 1_798_761_599_123) == "Thu, 31 Dec 2026 23:59:59 GMT")
    }
}
