import Convoy
import ConvoyMock
import Foundation
import Testing

/// Exports in the layout Genesys's bulk recording export to AWS S3 writes:
/// `{org}/year=…/month=…/day=…/hour=…/conversation_id={id}/`, a file per recording named by its id
/// and `{recordingId}_metadata.json` beside it, the conversation id certain only in the path.
@Suite(.serialized, .timeLimit(.minutes(2))) struct S3ExportEndToEndTests {
    /// Writes, by hand, five conversations: voice and message recordings, metadata with and without
    /// the conversation id, one conversation with two recordings, and a recording whose bytes happen
    /// to spell a `conversationId` (it must be skipped, not read).
    static func handMadeExport(in folder: String) throws -> [String] {
        let ids = MockConversationStore.sampleIDs(count: 5, seed: 77)
        let org = "0b6a1c9e-4f2d-4e7a-8c3b-5d9e1f2a3b4c"
        for (index, id) in ids.enumerated() {
            let path = "\(folder)/\(org)/year=2026/month=11/day=0\(index + 1)/hour=1\(index)/conversation_id=\(id)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            for recording in 0..<(index == 2 ? 2 : 1) {
                let recordingID = UUID().uuidString.lowercased()
                let isVoice = index % 2 == 0
                let named = index < 2 ? #""conversationId":"\#(id)","# : ""
                let metadata =
                    #"{\#(named)"recordingId":"\#(recordingID)","mediaType":"\#(isVoice ? "Call" : "Message")","#
                    + #""provider":"Genesys Cloud","userIds":["u-\#(recording)"]}"#
                try metadata.write(toFile: "\(path)/\(recordingID)_metadata.json", atomically: true, encoding: .utf8)
                let media =
                    isVoice ? "OggS\u{0}\u{2}{\"conversationId\":\"\(ids[4])\"}" : #"{"messages":[{"text":"hi"}]}"#
                try media.write(
                    toFile: "\(path)/\(recordingID).\(isVoice ? "opus" : "json")", atomically: true, encoding: .utf8)
            }
        }
        return ids
    }

    @Test func theScannerFindsEachConversationOnceFromItsFolder() async throws {
        let scratch = try TemporaryDirectory()
        let ids = try Self.handMadeExport(in: scratch.path)
        var found: [String] = []
        for try await (_, line) in ExportScanner(path: scratch.path) {
            guard case .id(let id) = line else {
                Issue.record("not an id: \(line)")
                continue
            }
            found.append(id.description)
        }
        #expect(found.sorted() == ids.sorted(), "each id once: from the folder, not again from its metadata")
    }

    @Test func anExportWithNoIdsIsAnErrorThatSaysWhatWasLookedFor() async throws {
        let scratch = try TemporaryDirectory()
        let export = scratch.file("export")
        try FileManager.default.createDirectory(atPath: export + "/org/year=2026", withIntermediateDirectories: true)
        try #"{"recordingId":"r1","mediaType":"Call"}"#.write(
            toFile: export + "/org/year=2026/r1_metadata.json", atomically: true, encoding: .utf8)
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let (status, console) = await convoy([
            "fetch", "--from-export", export, "--api-base", server.baseURL.absoluteString, "--output",
            scratch.file("out.ndjson"), "--no-progress",
        ])
        #expect(status != 0)
        #expect(console.capturedError.contains("no conversation ids in \(export)"), "\(console.capturedError)")
        #expect(console.capturedError.contains("conversation_id= folders"))
        let (enrichStatus, enrichConsole) = await convoy([
            "enrich", export, "--records", scratch.file("out.ndjson"), "--out", scratch.file("enriched"),
        ])
        #expect(enrichStatus != 0)
        #expect(
            enrichConsole.capturedError.contains("no conversation ids in \(export)"), "\(enrichConsole.capturedError)")
    }

    @Test func fetchAndEnrichAccountForEveryConversationFolder() async throws {
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let scratch = try TemporaryDirectory()
        let export = scratch.file("export")
        let (written, _) = await convoy(["mock-export", export, "--conversations", "30"])
        #expect(written == 0)
        let ids = MockConversationStore.sampleIDs(count: 30, seed: 42)
        let output = scratch.file("out.ndjson")
        let (status, console) = await convoy([
            "fetch", "--from-export", export, "--api-base", server.baseURL.absoluteString, "--output", output,
            "--no-progress", "--initial-rate", "500",
        ])
        #expect(status == 0 || status == 2, "\(console.capturedError)")
        let fetched = try ConvoyCLITests.ids(output)
        let failed = try ConvoyCLITests.ids(output.replacingOccurrences(of: ".ndjson", with: ".errors.ndjson"))
        #expect(Set(fetched + failed) == Set(ids), "exactly the export's conversations")
        #expect(fetched.count + failed.count == ids.count, "each once")

        let enriched = scratch.file("enriched")
        let (enrichStatus, enrichConsole) = await convoy(["enrich", export, "--records", output, "--out", enriched])
        #expect([0, 2].contains(enrichStatus), "\(enrichConsole.capturedError)")
        let report = try records(enriched + "/report.ndjson")
        #expect(report.count == 30, "a report line per conversation folder")
        for line in report {
            let folder = try #require(line["file"] as? String)
            #expect(folder.contains("/conversation_id="))
            #expect(line["ids"] as? Int == 1)
            let sidecar = enriched + "/" + (line["sidecar"] as? String ?? "")
            #expect(sidecar.hasSuffix(".recovered.ndjson"))
            let id = String(folder.split(separator: "=").last ?? "")
            if fetched.contains(id) {
                #expect(try ConvoyCLITests.ids(sidecar) == [id], "its own record beside its folder")
            }
        }
        // A row per conversation: what the export had of each field, and what the record recovered.
        let table = try String(contentsOfFile: enriched + "/conversations.csv", encoding: .utf8)
            .split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(table.first?.prefix(3) == ["file", "id", "record"])
        #expect(table.count == 31, "the header and one row per conversation")
        for row in table.dropFirst() {
            let id = String(row[1])
            #expect(row[0].hasSuffix("conversation_id=\(id)"))
            if fetched.contains(id) { #expect(row[2] == "yes") } else { #expect(row[2].hasPrefix("no: ")) }
            #expect(row.dropFirst(3).allSatisfy { ["export", "recovered", "missing"].contains($0) })
            if fetched.contains(id) { #expect(row.dropFirst(3).contains("recovered"), "the record adds fields") }
        }
        let (verifyStatus, verifyConsole) = await convoy(["verify", enriched])
        #expect(verifyStatus == 0, "\(verifyConsole.capturedOutput)\(verifyConsole.capturedError)")
    }
}
