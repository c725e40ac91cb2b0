import Convoy
import ConvoyMock
import Foundation
import Synchronization
import Testing

/// Message bodies against documents shaped as Genesys's models say (`MessageConversation`, whose
/// participants' `messages` are `MessageDetails`), served by a server nobody fitted to the client:
/// each conversation's bulk answer for exactly its message ids, and an error, never an empty part,
/// when the document cannot be read.
@Suite(.serialized, .timeLimit(.minutes(1))) struct MessagingEndToEndTests {
    static let ids = MockConversationStore.sampleIDs(count: 6, seed: 31)

    /// The message ids of conversation `id` in the document below: two to five per participant.
    static func messageIDs(_ id: String) -> [[String]] {
        let count = 2 + (ids.firstIndex(of: id) ?? 0) % 4
        return (0..<2).map { participant in (0..<count).map { "\(id.prefix(8))-\(participant)-m\($0)" } }
    }

    /// A `MessageConversation` as the SDK models it (field names and enum values from
    /// `MessageMediaParticipant` and `MessageDetails`).
    static func document(_ id: String) -> String {
        let participants = messageIDs(id).enumerated().map { index, messages in
            let details = messages.map { message in
                #"{"messageId":"\#(message)","messageURI":"/api/v2/conversations/messages/\#(id)/messages/\#(message)","#
                    + #""messageStatus":"delivery-success","messageSegmentCount":1,"#
                    + #""messageTime":"2026-11-30T10:00:0\#(index).000Z","media":[],"stickers":[]}"#
            }
            return #"{"id":"p\#(index)-\#(id.prefix(8))","purpose":"\#(index == 0 ? "customer" : "agent")","#
                + #""state":"disconnected","direction":"inbound","type":"whatsapp","messages":[\#(details.joined(separator: ","))]}"#
        }
        return #"{"id":"\#(id)","participants":[\#(participants.joined(separator: ","))],"utilizationLabelId":"l1"}"#
    }

    @Test func eachConversationGetsTheBulkAnswerForExactlyItsMessageIDs() async throws {
        let asked = Mutex<[String: [String]]>([:])
        let server = try HostileServer { request, connection in
            if request.method == "POST" {
                let wanted = (try? JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String]) ?? []
                asked.withLock { $0[request.id, default: []] += wanted }
                let entities = wanted.map { #"{"id":"\#($0)","textBody":"hello \#($0)","status":"delivery-success"}"# }
                connection.write(HostileServer.ok(#"{"entities":[\#(entities.joined(separator: ","))]}"#))
            } else {
                connection.write(HostileServer.ok(Self.document(request.id)))
            }
            return .keepOpen
        }
        defer { server.stop() }
        let scratch = try TemporaryDirectory()
        let output = scratch.file("out.ndjson")
        let (status, console) = await convoy([
            "fetch", try writeIDs(Self.ids, in: scratch), "--api-base", server.url, "--output", output,
            "--include", "messages", "--no-progress", "--initial-rate", "500",
        ])
        #expect(status == 0, "\(console.capturedError)")
        let records = try records(output)
        #expect(Set(records.map { $0["id"] as! String }) == Set(Self.ids))
        for record in records {
            let id = record["id"] as! String
            let expected = Self.messageIDs(id).flatMap { $0 }
            #expect(asked.withLock { $0[id] } == expected, "the bulk request asks for exactly its ids, in order")
            let bodies = try #require(record["messageBodies"] as? [[String: Any]])
            let entities = bodies.flatMap { $0["entities"] as? [[String: Any]] ?? [] }.map { $0["id"] as! String }
            #expect(entities == expected)
        }
    }

    @Test func aMessagingDocumentThatCannotBeReadIsAnErrorNotAnEmptyPart() async throws {
        let unreadable = Set(Self.ids.prefix(2))
        let server = try HostileServer { request, connection in
            if request.method == "POST" {
                connection.write(HostileServer.ok(#"{"entities":[]}"#))
            } else if unreadable.contains(request.id) {
                // Messages nested one level deeper than the model has them, under an unknown key.
                connection.write(
                    HostileServer.ok(
                        #"{"id":"\#(request.id)","participants":[{"id":"p","messages":[{"id":"s","items":[{"messageId":"m"}]}]}]}"#
                    ))
            } else {
                connection.write(HostileServer.ok(Self.document(request.id)))
            }
            return .keepOpen
        }
        defer { server.stop() }
        let scratch = try TemporaryDirectory()
        let output = scratch.file("out.ndjson")
        let errors = scratch.file("errors.ndjson")
        let (status, _) = await convoy([
            "fetch", try writeIDs(Self.ids, in: scratch), "--api-base", server.url, "--output", output,
            "--errors", errors, "--include", "conversation,messages", "--no-progress", "--initial-rate", "500",
        ])
        #expect(status == 2, "some ids failed")
        #expect(Set(try ConvoyCLITests.ids(output)) == Set(Self.ids).subtracting(unreadable))
        let failures = try records(errors)
        #expect(Set(failures.map { $0["id"] as! String }) == unreadable)
        for failure in failures {
            #expect(failure["part"] as? String == "messages")
            #expect((failure["reason"] as? String)?.contains("participants[].messages[].messageId") == true)
        }
        for line in try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n") {
            #expect(!line.contains(#""messageBodies":[]"#), "no silent empty part")
        }
    }
}
