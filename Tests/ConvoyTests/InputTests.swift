import Convoy
import Foundation
import Testing

@Suite(.timeLimit(.minutes(1))) struct InputTests {
    static let id = "3f2a5c9e-1b2d-4c3e-8f9a-0b1c2d3e4f50"

    @Test(arguments: [
        (id, id),
        ("  \(id)\t", id),
        ("\(id)\r", id),
        (id.uppercased(), id),
        (#"{"conversationId":"\#(id)","other":1}"#, id),
        (#"{"id":"\#(id)"}"#, id),
        (#"{"conversationId":"\#(id)","id":"not-this"}"#, id),
    ])
    func acceptsIDs(line: String, expected: String) {
        #expect(InputLine(parsing: Substring(line)) == .id(ConversationID(expected)!))
        #expect(Self.fromBytes(line) == .id(ConversationID(expected)!), "the byte path agrees")
    }

    @Test(arguments: ["", "   ", "\r", "# a comment", "  # indented comment"])
    func skipsBlankLinesAndComments(_ line: String) {
        #expect(InputLine(parsing: Substring(line)) == .skip)
        #expect(Self.fromBytes(line) == .skip)
    }

    static func fromBytes(_ line: String) -> InputLine {
        Array(line.utf8).withUnsafeBytes { InputLine(parsing: $0) }
    }

    @Test(arguments: [
        "not-an-id", "3f2a5c9e1b2d4c3e8f9a0b1c2d3e4f50", "3f2a5c9e-1b2d-4c3e-8f9a-0b1c2d3e4f5",
        "3f2a5c9e-1b2d-4c3e-8f9a-0b1c2d3e4f50x", "3f2a5c9e-1b2d-4c3e-8f9a-0b1c2d3e4g50", "../../admin",
        "3f2a5c9e-1b2d-4c3e-8f9a-0b1c2d3e4f50/../x", "{not json", #"{"conversationId":42}"#, #"{"name":"x"}"#,
        #"{"id":"../etc/passwd"}"#,
    ])
    func rejectsAnythingElseWithAReason(_ line: String) {
        guard case .invalid(_, let reason) = InputLine(parsing: Substring(line)) else {
            Issue.record("accepted \(line)")
            return
        }
        #expect(!reason.isEmpty)
        #expect(Self.fromBytes(line) == InputLine(parsing: Substring(line)), "the byte path agrees")
    }

    @Test func readerStreamsLinesWithNumbersAcrossChunkBoundaries() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ids-\(UUID()).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ids = (0..<5000).map { _ in UUID().uuidString.lowercased() }
        var text = "# header\r\n"
        for (index, id) in ids.enumerated() {
            text += index % 3 == 0 ? "\(id)\r\n" : "\(id)\n"
            if index == 10 { text += "\nbogus\n" }
        }
        text += ids[0]  // last line without a newline, and a duplicate
        try text.write(toFile: path, atomically: true, encoding: .utf8)

        var seen: [String] = []
        var invalid: [(Int, String)] = []
        var lastLine = 0
        for try await (line, item) in IDReader(path: path) {
            #expect(line == lastLine + 1)
            lastLine = line
            switch item {
            case .id(let id): seen.append(id.description)
            case .invalid(let text, _): invalid.append((line, text))
            case .skip: break
            }
        }
        #expect(seen == ids + [ids[0]])
        #expect(invalid.count == 1 && invalid[0].0 == 14 && invalid[0].1 == "bogus")
    }

    @Test func missingFileIsAClearError() {
        #expect(throws: ConvoyError.self) { try IDReader(path: "/nonexistent/ids.txt").validate() }
    }
}
