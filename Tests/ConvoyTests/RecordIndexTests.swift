import Convoy
import ConvoyMock
import Foundation
import Testing

@Suite struct RecordIndexTests {
    @Test func readsEachRecordBackVerbatimFromSeveralFilesWhateverItsLength() throws {
        let folder = try TemporaryDirectory()
        let ids = MockConversationStore.sampleIDs(count: 300, seed: 5)
        // Lines from a few bytes to 3 MiB, so some cross the 1 MiB reading blocks and the 16 KiB read-back blocks.
        func record(_ index: Int) -> String {
            let size = index % 50 == 0 ? 3 << 20 : index * 37
            return #"{"id":"\#(ids[index])","n":\#(index),"pad":"\#(String(repeating: "x", count: size))"}"#
        }
        let first = (0..<150).map(record).joined(separator: "\n") + "\n"
        // The second file: a record reformatted by a tool (id not first), a line that is no record,
        // an id already in the first file, and a torn last line.
        let moved = #"{"n":150, "id" : "\#(ids[150].uppercased())"}"#
        let second =
            ([moved, "not json", #"{"id":"not-a-uuid"}"#, record(3)] + (151..<300).map(record))
            .joined(separator: "\n") + "\n" + #"{"id":"\#(ids[0])","torn"#
        try first.write(toFile: folder.file("a.ndjson"), atomically: true, encoding: .utf8)
        try second.write(toFile: folder.file("b.ndjson"), atomically: true, encoding: .utf8)

        let index = try RecordIndex(paths: [folder.file("a.ndjson"), folder.file("b.ndjson")])
        #expect(index.count == 300)
        #expect(index.records == 301)
        #expect(index.duplicates == 1)
        #expect(index.unreadable == 2)
        #expect(index.tornBytes == #"{"id":"\#(ids[0])","torn"#.utf8.count)
        for position in [0, 1, 3, 49, 50, 149, 151, 250, 299] {
            let line = try #require(try index.record(for: ConversationID(ids[position])!))
            #expect(
                String(decoding: line, as: UTF8.self) == record(position), "record \(position), the first of its id")
        }
        #expect(try index.record(for: ConversationID(ids[150])!) == Array(moved.utf8))
        #expect(try index.record(for: ConversationID("3f2a5c9e-0000-4000-8000-00000000000a")!) == nil)
        #expect(index.fingerprints[0] == (try FileFingerprint.measure(path: folder.file("a.ndjson")).whole))
        #expect(index.fingerprints[1].bytes == Int64(second.utf8.count))
    }

    @Test func aMissingFileIsAnInputError() {
        #expect(throws: ConvoyError.self) { try RecordIndex(paths: ["/nonexistent/records.ndjson"]) }
    }
}
