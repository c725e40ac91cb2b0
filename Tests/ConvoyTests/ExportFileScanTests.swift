import Convoy
import Foundation
import Testing

@Suite struct ExportFileScanTests {
    func scan(_ text: String) -> ExportFileScan {
        Array(text.utf8).withUnsafeBufferPointer { ExportFileScan(bytes: $0) }
    }

    @Test func findsEveryObjectWithAConversationIDInDocumentOrderWithItsBytes() {
        let text =
            #"{"b":{"conversationId":"x1","n":[1,2]},"a":[{"conversationId":"x2"},{"id":"x3"}],"conversationId":"x0"}"#
        let found = scan(text)
        #expect(found.unreadable.isEmpty)
        #expect(found.holders.map(\.id) == ["x1", "x2", "x0"], "document order, not key order")
        let bytes = Array(text.utf8)
        let objects = found.holders.map { String(decoding: bytes[$0.object], as: UTF8.self) }
        #expect(objects[0] == #"{"conversationId":"x1","n":[1,2]}"#)
        #expect(objects[1] == #"{"conversationId":"x2"}"#)
        #expect(objects[2] == text, "the outer object holds x0")
        for holder in found.holders {
            #expect(
                bytes[holder.offset...].starts(with: Array("\"\(holder.id)\"".utf8)), "the offset is the value's quote")
        }
    }

    @Test func readsNDJSONAndPrettyDocumentsAlike() {
        let ndjson = "{\"conversationId\":\"a\"}\n{\"conversationId\":\"b\"}\r\n\n{\"conversationId\":\"c\"}"
        #expect(scan(ndjson).holders.map(\.id) == ["a", "b", "c"])
        let pretty = "{\n  \"items\": [\n    { \"conversationId\" : \"a\" }\n  ]\n}\n"
        #expect(scan(pretty).holders.map(\.id) == ["a"])
    }

    @Test func decodesEscapesInKeysAndValuesAndSkipsNonStrings() {
        let text =
            #"[{"conversation\u0049d":"a\u0062c"},{"conversationId":7},{"conversationId":null},{"conversationid":"no"}]"#
        #expect(scan(text).holders.map(\.id) == ["abc"])
    }

    @Test func aLineThatIsNotJSONIsKeptAsUnreadableAndTheRestIsRead() {
        let text = "{\"conversationId\":\"a\"}\n{\"conversationId\": broken\n\n{\"conversationId\":\"c\"}\n"
        let found = scan(text)
        #expect(found.holders.map(\.id) == ["a", "c"])
        #expect(found.holders.map(\.offset) == [18, 68], "offsets in the file, not in the line")
        #expect(found.unreadable.map(\.line) == [2])
        #expect(found.unreadable.map(\.offset) == [23])
        #expect(found.unreadable.map(\.excerpt) == ["{\"conversationId\": broken"])
    }

    @Test func bytesThatAreNotUTF8AreUnreadableNotGuessed() {
        var bytes = Array("{\"conversationId\":\"a\"}\n{\"conversationId\":\"".utf8) + [0xFF, 0xFE]
        bytes += Array("\"}\n".utf8)
        let found = bytes.withUnsafeBufferPointer { ExportFileScan(bytes: $0) }
        #expect(found.holders.map(\.id) == ["a"])
        #expect(found.unreadable.map(\.line) == [2])
    }
}
