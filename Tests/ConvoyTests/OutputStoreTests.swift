import Convoy
import ConvoyMock
import Foundation
import Testing

func readLines(_ path: String) throws -> [String] {
    var lines: [String] = []
    try NDJSONFile.forEachLine(atPath: path) { lines.append(String(decoding: $0, as: UTF8.self)) }
    return lines
}

@Suite(.timeLimit(.minutes(1))) struct OutputStoreTests {
    static let a = ConversationID("aaaaaaaa-0000-4000-8000-000000000001")!
    static let b = ConversationID("bbbbbbbb-0000-4000-8000-000000000002")!
    static let c = ConversationID("cccccccc-0000-4000-8000-000000000003")!

    @Test func cutsATornLastLineAndKeepsWholeOnes() throws {
        let folder = try TemporaryDirectory()
        let path = folder.file("out.ndjson")
        let whole = #"{"id":"aaaaaaaa-0000-4000-8000-000000000001","x":1}"# + "\n"
        let torn = #"{"id":"bbbbbbbb-0000-4000-8000-0000000"#
        try (whole + torn).write(toFile: path, atomically: false, encoding: .utf8)
        let file = try NDJSONFile(path: path)
        #expect(file.truncatedBytes == torn.utf8.count)
        try file.append(Array(#"{"id":"next"}"#.utf8))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == whole + #"{"id":"next"}"# + "\n")
    }

    /// The resume scan takes an id from Convoy's own prefix only when the line is whole (ends in
    /// `}`); any other line is parsed in full, and one with no UUID `id` names nothing.
    @Test func theResumeScanTrustsConvoysPrefixOnlyOnWholeRecords() throws {
        let folder = try TemporaryDirectory()
        let path = folder.file("out.ndjson")
        let lines = [
            #"{"id":"\#(Self.a)","fetchedAt":"2026-01-01T00:00:00.000Z","conversation":{}}"#,  // Convoy's
            #"{"fetchedAt":"2026-01-01T00:00:00.000Z","id":"\#(Self.b.description.uppercased())"}"#,  // parsed
            #"{"id":"\#(Self.c)","fetchedAt":"2026-01-01T00:00:00.000Z","conversation":{"#,  // not whole
            #"{"id":"not-a-uuid-at-all-but-36-bytes-long!","x":1}"#,
            #"{"other":"\#(Self.c)"}"#,
        ]
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        let store = try OutputStore(outputPath: path, errorsPath: folder.file("e.ndjson"))
        #expect(store.resume.done == 2)
        #expect(store.resume.ids.contains(Self.a.key) && store.resume.ids.contains(Self.b.key))
        #expect(!store.resume.ids.contains(Self.c.key), "a record that does not parse is not taken as done")
        #expect(store.resume.parsedLines == 4)
    }

    @Test func aFileWithNoNewlineAtAllIsOneTornLine() throws {
        let folder = try TemporaryDirectory()
        let path = folder.file("out.ndjson")
        try #"{"id":"aaa"#.write(toFile: path, atomically: false, encoding: .utf8)
        #expect(try NDJSONFile(path: path).truncatedBytes == 10)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).isEmpty)
    }

    @Test func newFilesAreReadableByTheOwnerOnly() throws {
        let folder = try TemporaryDirectory()
        _ = try OutputStore(outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson"))
        for name in ["o.ndjson", "e.ndjson"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: folder.file(name))
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        }
    }

    @Test func resumeSkipsDoneAndPermanentFailuresAndRetriesTheRest() throws {
        let folder = try TemporaryDirectory()
        let output = folder.file("o.ndjson")
        let errors = folder.file("e.ndjson")
        do {
            let store = try OutputStore(outputPath: output, errorsPath: errors)
            try store.writeSuccess(
                id: Self.a, attempts: 1,
                parts: [
                    RecordPart(
                        key: "conversation", json: Array(#"{"id":"a"}"#.utf8),
                        sources: [Provenance(status: 200, correlationID: "c-1")])
                ])
            try store.writeFailure(
                FetchFailure(id: Self.b.description, status: 404, reason: "not found", attempts: 1, retryable: false))
            try store.writeFailure(
                FetchFailure(id: Self.c.description, status: 503, reason: "server error", attempts: 8, retryable: true))
            try store.writeFailure(
                FetchFailure(
                    id: "bad\"id\n", status: nil, reason: "not an id", attempts: 0, retryable: false, inputLine: 4))
            try store.sync()
        }
        let resumed = try OutputStore(outputPath: output, errorsPath: errors)
        #expect(resumed.resume.done == 1 && resumed.resume.ids.contains(Self.a.key))
        #expect(resumed.resume.failed == [Self.b.description, "bad\"id\n"])
        #expect(resumed.resume.retrying == 1)
        #expect(
            resumed.resume.ids.contains(Self.a.key) && resumed.resume.failed.contains(Self.b.description)
                && !resumed.resume.ids.contains(Self.c.key) && !resumed.resume.failed.contains(Self.c.description)
        )
        let lines = try readLines(errors)
        #expect(lines.count == 2, "the retryable failure left the errors file, so c ends in exactly one file")
        #expect(!lines.joined().contains(Self.c.description))
        for line in try lines + readLines(output) {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "valid JSON: \(line)")
        }
    }

    @Test func recordFormatIsDocumented() throws {
        let date = Date(timeIntervalSince1970: 1_795_000_000.123)
        let line = RecordEncoder.success(
            id: Self.a, fetchedAt: date, attempts: 2,
            parts: [
                RecordPart(
                    key: "conversation", json: Array(#"{"k":[1]}"#.utf8),
                    sources: [Provenance(status: 200, correlationID: "c-1")]),
                RecordPart(
                    key: "messageBodies", json: Array("[[],[]]".utf8),
                    sources: [
                        Provenance(status: 200, correlationID: "c-2"), Provenance(status: 200, correlationID: nil),
                    ],
                    isBatched: true),
            ])
        #expect(
            String(decoding: line, as: UTF8.self)
                == #"{"id":"aaaaaaaa-0000-4000-8000-000000000001","fetchedAt":"2026-11-18T11:06:40.123Z","attempts":2,"#
                + #""provenance":{"conversation":{"status":200,"correlationId":"c-1"},"#
                + #""messageBodies":[{"status":200,"correlationId":"c-2"},{"status":200,"correlationId":null}]},"#
                + #""conversation":{"k":[1]},"messageBodies":[[],[]]}"#
        )
        let failure = RecordEncoder.failure(
            FetchFailure(id: "x\u{1}", status: nil, reason: "r", attempts: 0, retryable: false, inputLine: 3),
            failedAt: date)
        #expect(
            String(decoding: failure, as: UTF8.self)
                == #"{"id":"x\u0001","status":null,"correlationId":null,"reason":"r","attempts":0,"retryable":false,"#
                + #""line":3,"failedAt":"2026-11-18T11:06:40.123Z"}"#
        )
        let notFound = RecordEncoder.failure(
            FetchFailure(
                id: "y", status: 404, reason: "not found", attempts: 1, retryable: false, correlationID: "c-3"),
            failedAt: date)
        #expect(String(decoding: notFound, as: UTF8.self).hasPrefix(#"{"id":"y","status":404,"correlationId":"c-3","#))
    }

    @Test func outputAndErrorsMustDiffer() throws {
        let folder = try TemporaryDirectory()
        #expect(throws: ConvoyError.self) {
            try OutputStore(outputPath: folder.file("same"), errorsPath: folder.file("same"))
        }
    }
}
