import Convoy
import ConvoyMock
import Foundation
import Testing

@Suite struct MockExportTests {
    @Test func theExportHoldsEveryIDAndNoneOfTheComplianceFields() throws {
        let folder = try TemporaryDirectory()
        let ids = MockConversationStore.sampleIDs(count: 400, seed: 3)
        let files = try MockExport.write(ids: ids, files: 10, to: folder.path)
        #expect(files.count == 10)
        #expect(files.contains { $0.path.hasPrefix("transcripts/") } && files.contains { $0.path.hasPrefix("voice/") })
        var found: [String] = []
        for file in files {
            let text = try String(contentsOfFile: folder.file(file.path), encoding: .utf8)
            for stripped in [
                "legal_hold", "legalHold", "division", "startTime", "endTime", "recordingState", "wrapup",
                "externalTag", "attributes",
            ] {
                #expect(!text.contains(stripped), "\(file.path) has \(stripped)")
            }
            // What --from-export reads is what the writer says it wrote.
            let scanned = Array(text.utf8).withUnsafeBufferPointer { ExportFileScan(bytes: $0) }
            #expect(scanned.unreadable.isEmpty)
            let holders = scanned.holders.map(\.id)
            #expect(holders.reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } } == file.ids)
            found += file.ids
            if file.path.hasPrefix("transcripts/") {
                for id in file.ids {
                    #expect(
                        holders.filter { $0 == id }.count == MockConversationStore.messageIDs(conversationID: id).count,
                        "a line per message")
                }
            }
        }
        #expect(found.sorted() == ids.sorted(), "every conversation is in the export, in one file")
        for file in files where file.path.hasPrefix("voice/") {
            #expect(file.ids.allSatisfy { !MockConversationStore.isMessaging($0) })
            #expect(Set(file.ids).count == file.ids.count, "a recording per voice conversation")
        }
        let again = try TemporaryDirectory()
        _ = try MockExport.write(ids: ids, files: 10, to: again.path)
        for file in files {
            #expect(
                FileManager.default.contents(atPath: folder.file(file.path))
                    == FileManager.default.contents(atPath: again.file(file.path)))
        }
    }
}
