import Convoy
import ConvoyCLI
import ConvoyMock
import Foundation
import Testing

/// Issue 12 end to end: a stripped export of mock conversations, `fetch --from-export`, then
/// `enrich`, with exact sets.
@Suite(.serialized, .timeLimit(.minutes(2))) struct EnrichEndToEndTests {
    /// `count` conversations in `files` files (the issue's 2,000 in 40 by default), about 1 % missing
    /// from the API, fetched.
    final class Fixture {
        let scratch: TemporaryDirectory
        let export: String
        let files: [MockExport.File]
        let records: String
        let missing: Set<String>
        /// SHA-256 of each export file before anything ran.
        let digests: [String: String]

        init(count: Int = 2000, files: Int = 40) async throws {
            scratch = try TemporaryDirectory()
            export = scratch.file("export")
            let ids = MockConversationStore.sampleIDs(count: count, seed: 12)
            self.files = try MockExport.write(ids: ids, files: files, to: export)
            missing = Set(ids.filter { !MockConversationStore.exists($0, missingPerMille: 10) })
            digests = try Self.digests(export, self.files.map(\.path))
            let server = try MockAPIServer.start(MockServerConfiguration(missingPerMille: 10))
            defer { server.shutdown() }
            records = scratch.file("conversations.ndjson")
            let (status, console) = await convoy([
                "fetch", "--from-export", export, "--api-base", server.baseURL.absoluteString, "--output", records,
                "--no-progress",
            ])
            #expect(status == 2, "the missing ids failed: \(console.capturedError)")
        }

        static func digests(_ folder: String, _ paths: [String]) throws -> [String: String] {
            var digests: [String: String] = [:]
            for path in paths {
                digests[path] = try FileFingerprint.measure(path: (folder as NSString).appendingPathComponent(path))
                    .whole.sha256
            }
            return digests
        }

        /// The record line of each id, verbatim.
        func recordLines() throws -> [String: String] {
            var lines: [String: String] = [:]
            for line in try String(contentsOfFile: records, encoding: .utf8).split(separator: "\n") {
                let id = String(line.dropFirst(#"{"id":""#.count).prefix(36))
                lines[id] = String(line)
            }
            return lines
        }
    }

    @Test func everyExportFileGetsItsSidecarAndEveryDefaultFieldIsRecovered() async throws {
        let fixture = try await Fixture()
        #expect(fixture.files.count == 40)
        #expect(fixture.missing.count > 5, "the mock drops about 1 % of 2,000")
        let export = fixture.export
        let out = fixture.scratch.file("enriched")
        let (status, console) = await convoy(["enrich", export, "--records", fixture.records, "--out", out])
        #expect(status == 2, "ids without a record make the exit status 2: \(console.capturedError)")

        let lines = try fixture.recordLines()
        // The mock's documents, parsed once (not once per field and id).
        var documents: [String: [String: Any]] = [:]
        for file in fixture.files {
            for id in file.ids where documents[id] == nil {
                documents[id] =
                    try JSONSerialization.jsonObject(with: MockConversationStore.conversationDocument(id: id))
                    as? [String: Any]
            }
        }
        let reports = try records((out as NSString).appendingPathComponent("report.ndjson"))
        #expect(reports.map { $0["file"] as? String } == fixture.files.map(\.path).sorted())
        for file in fixture.files {
            // The sidecar: each id of the file once, in file order, its record verbatim.
            let distinct = file.ids.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            let expected = distinct.filter { !fixture.missing.contains($0) }.map { lines[$0]! }
            let sidecar = try String(contentsOfFile: "\(out)/\(file.path).recovered.ndjson", encoding: .utf8)
            #expect(sidecar.split(separator: "\n").map(String.init) == expected, "\(file.path)")

            let report = try #require(reports.first { $0["file"] as? String == file.path })
            #expect(report["ids"] as? Int == distinct.count)
            let noRecord = try #require(report["noRecord"] as? [[String: Any]])
            #expect(Set(noRecord.map { $0["id"] as! String }) == Set(distinct).intersection(fixture.missing))
            for entry in noRecord {
                #expect((entry["reason"] as? String)?.hasPrefix("404: ") == true, "\(entry)")
            }
            // Every default field was absent from the export; each is recovered exactly where the
            // mock's document has it.
            for field in try #require(report["fields"] as? [[String: Any]]) {
                let path = try #require(FieldPath(field["field"] as! String))
                let having = distinct.filter { id in
                    !fixture.missing.contains(id) && Self.mockHas(path, in: documents[id]!)
                }
                #expect(field["inExport"] as? Int == 0, "\(path) was stripped")
                #expect(field["absent"] as? Int == distinct.count)
                #expect(field["recovered"] as? Int == having.count, "\(file.path) \(path)")
                #expect(Set(field["missingIds"] as! [String]) == Set(distinct).subtracting(having))
            }
        }
        let legalHold = try #require(
            reports.flatMap { $0["fields"] as! [[String: Any]] }
                .filter { $0["field"] as? String == "conversation.participants[].attributes.legal_hold" })
        #expect(legalHold.reduce(0) { $0 + ($1["recovered"] as! Int) } == 2000 - fixture.missing.count)
        #expect(console.capturedOutput.contains("2000 ids: \(2000 - fixture.missing.count) with a record"))
        #expect(try Fixture.digests(export, fixture.files.map(\.path)) == fixture.digests, "originals untouched")

        // The CSV opens in a spreadsheet: a header, a row per file and field, and the totals.
        let table = try String(contentsOfFile: "\(out)/report.csv", encoding: .utf8).components(separatedBy: "\r\n")
        #expect(table.first == EnrichTable.header.trimmingCharacters(in: .newlines))
        #expect(table.filter { !$0.isEmpty }.count == 1 + 41 * FieldPath.defaults.count)

        // The manifest holds the digest of every file read and written; verify re-measures them.
        let (verified, report) = await convoy(["verify", out])
        #expect(verified == 0, "\(report.capturedOutput)")
        let manifest = try #require(try ManifestLog(path: "\(out)/enrich.manifest.ndjson").lines().last)
        let decoded = try EnrichManifest.decode(manifest)
        #expect(decoded.export.files.map(\.path) == fixture.files.map(\.path).sorted())
        #expect(Set(decoded.export.files.map(\.sha256)) == Set(fixture.digests.values))
        #expect(decoded.written.count == 40 + 3, "40 sidecars, report.ndjson, report.csv, conversations.csv")

        let sidecar = "\(out)/\(fixture.files[0].path).recovered.ndjson"
        try (try String(contentsOfFile: sidecar, encoding: .utf8) + "{}\n").write(
            toFile: sidecar, atomically: true, encoding: .utf8)
        let original = "\(export)/\(fixture.files[1].path)"
        try (try String(contentsOfFile: original, encoding: .utf8) + " ").write(
            toFile: original, atomically: true, encoding: .utf8)
        let (tampered, found) = await convoy(["verify", out])
        #expect(tampered == 1)
        #expect(found.capturedOutput.contains("written: \(fixture.files[0].path).recovered.ndjson was altered"))
        #expect(found.capturedOutput.contains("export: \(fixture.files[1].path) changed"))
    }

    @Test func idsWithoutARecordAndInvalidOnesAreListedWithReasons() async throws {
        let fixture = try await Fixture(count: 400, files: 10)
        // A file added after the fetch: two ids never fetched, one that is not a UUID, a line that is not JSON.
        let late = MockConversationStore.sampleIDs(count: 2, seed: 99)
        let lines = [
            #"{"conversationId":"\#(late[0])","text":"hi"}"#,
            #"{"conversationId":"not-a-uuid","text":"?"}"#,
            #"{"conversationId": broken"#,
            #"{"conversationId":"\#(late[1])","text":"bye"}"#,
            #"{"conversationId":"\#(late[0])","text":"again"}"#,
        ]
        let export = fixture.export
        try lines.joined(separator: "\n").write(toFile: "\(export)/late.ndjson", atomically: true, encoding: .utf8)
        let out = fixture.scratch.file("enriched")
        let (status, _) = await convoy(["enrich", export, "--records", fixture.records, "--out", out])
        #expect(status == 2)
        let report = try #require(
            try records("\(out)/report.ndjson").first { $0["file"] as? String == "late.ndjson" })
        #expect(report["ids"] as? Int == 2)
        #expect(report["withRecord"] as? Int == 0)
        let noRecord = try #require(report["noRecord"] as? [[String: Any]])
        #expect(noRecord.map { $0["id"] as! String } == late)
        #expect(noRecord.allSatisfy { ($0["reason"] as! String).hasPrefix("no record and no error") })
        let invalid = try #require(report["invalid"] as? [[String: Any]])
        #expect(invalid.count == 2)
        #expect(invalid[0]["text"] as? String == "not-a-uuid")
        #expect(invalid[0]["position"] as? Int == 2, "the second conversationId of the file")
        #expect(invalid[1]["line"] as? Int == 3, "the line that is not JSON")
        #expect(invalid[0]["offset"] as? Int == lines[0].utf8.count + 1 + #"{"conversationId":"#.utf8.count)
        #expect(invalid[1]["offset"] as? Int == lines[0].utf8.count + lines[1].utf8.count + 2)
        #expect(try String(contentsOfFile: "\(out)/late.ndjson.recovered.ndjson", encoding: .utf8).isEmpty)
    }

    @Test func theMergedFormAddsTheRecordAndChangesNothing() async throws {
        let fixture = try await Fixture(count: 400, files: 10)
        let out = fixture.scratch.file("enriched")
        let (status, _) = await convoy([
            "enrich", fixture.export, "--records", fixture.records, "--out", out, "--merged", "--fields",
            "conversation.startTime",
        ])
        #expect(status == 2)
        let lines = try fixture.recordLines()
        for file in fixture.files {
            let original = try #require(FileManager.default.contents(atPath: "\(fixture.export)/\(file.path)"))
            let merged = try #require(FileManager.default.contents(atPath: "\(out)/merged/\(file.path)"))
            // Take out exactly what enrich added: what remains is the original, byte for byte.
            var stripped: [UInt8] = []
            var added: [String] = []
            var rest = [UInt8](merged)[...]
            let marker = Array(#","convoy":{"id":""#.utf8)
            while let found = rest.firstRange(of: marker) {
                stripped += rest[..<found.lowerBound]
                let id = String(decoding: rest[found.upperBound...].prefix(36), as: UTF8.self)
                let insertion = Array((#","convoy":"# + (lines[id] ?? "")).utf8)
                #expect(rest[found.lowerBound...].starts(with: insertion), "\(id): its record verbatim")
                added.append(id)
                rest = rest[(found.lowerBound + insertion.count)...]
            }
            stripped += rest
            #expect(Data(stripped) == original, "\(file.path): every byte of the export kept")
            #expect(added.sorted() == Set(file.ids).subtracting(fixture.missing).sorted(), "once per conversation")

            // And as documents: the merged objects equal the originals plus one `convoy` member.
            let documents = { (data: Data) -> [Any] in
                let text = String(decoding: data, as: UTF8.self)
                if file.path.hasSuffix(".json") { return [try! JSONSerialization.jsonObject(with: data)] }
                return text.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) }
            }
            let before = documents(original)
            let after = documents(merged).map(Self.removingConvoy)
            #expect((before as NSArray).isEqual(to: after), "\(file.path)")
        }
    }

    @Test func anInterruptedRunLeavesWholeFilesAndSaysSo() async throws {
        let fixture = try await Fixture(count: 400, files: 10)
        let out = fixture.scratch.file("enriched")
        var configuration = Enricher.Configuration(
            exportPath: fixture.export, recordsPaths: [fixture.records], errorsPaths: [], outputDirectory: out)
        configuration.merged = true
        var asked = 0
        let summary = try Enricher(configuration: configuration).run(isCancelled: {
            asked += 1
            return asked > 3
        })
        #expect(!summary.complete)
        #expect(summary.files == 3)
        let done = fixture.files.map(\.path).sorted().prefix(3)
        #expect(try records("\(out)/report.ndjson").map { $0["file"] as! String } == Array(done))
        let written = try FileManager.default.subpathsOfDirectory(atPath: out).filter {
            $0.hasSuffix(".ndjson") || $0.hasSuffix(".json")
        }
        #expect(!written.contains { $0.contains(".tmp-") }, "no temp file left")
        #expect(written.filter { $0.hasSuffix(".recovered.ndjson") }.sorted() == done.map { $0 + ".recovered.ndjson" })
        let manifest = try EnrichManifest.decode(
            try #require(try ManifestLog(path: "\(out)/enrich.manifest.ndjson").lines().last))
        #expect(manifest.outcome == "interrupted")
        #expect(manifest.export.files.map(\.path) == Array(done))
        let (verified, _) = await convoy(["verify", out])
        #expect(verified == 0, "what was written is whole and recorded")
    }

    @Test func usageMistakesAreExplained() async throws {
        let scratch = try TemporaryDirectory()
        let export = scratch.file("export")
        _ = try MockExport.write(ids: MockConversationStore.sampleIDs(count: 10), files: 2, to: export)
        try "".write(toFile: scratch.file("r.ndjson"), atomically: true, encoding: .utf8)
        for (arguments, message) in [
            (["enrich", export, "--out", scratch.file("o")], "--records FILE is required"),
            (["enrich", export, "--records", scratch.file("r.ndjson")], "--out DIR is required"),
            (["enrich", export, "--records", scratch.file("r.ndjson"), "--out", "\(export)/o"], "inside the export"),
            (
                [
                    "enrich", export, "--records", scratch.file("r.ndjson"), "--out", scratch.file("o"), "--fields",
                    "a..b",
                ], "not a field path"
            ),
            (
                ["enrich", scratch.file("none"), "--records", scratch.file("r.ndjson"), "--out", scratch.file("o")],
                "no such file"
            ),
        ] {
            let (status, console) = await convoy(arguments)
            #expect(status != 0)
            #expect(console.capturedError.contains(message), "\(arguments): \(console.capturedError)")
        }
    }

    /// Whether the mock's own document of `id` has the default field `path`, read by hand here
    /// rather than by ``FieldPath``.
    /// Whether the mock's conversation `document` has a value at `path`, read the obvious way.
    static func mockHas(_ path: FieldPath, in document: [String: Any]) -> Bool {
        let participants = document["participants"] as? [[String: Any]] ?? []
        let attributes = participants.compactMap { $0["attributes"] as? [String: Any] }
        func text(_ value: Any?) -> Bool { (value as? String).map { !$0.isEmpty } ?? false }
        switch path.description {
        case "conversation.participants[].attributes.legal_hold": return attributes.contains { text($0["legal_hold"]) }
        case "conversation.participants[].attributes": return attributes.contains { !$0.isEmpty }
        case "conversation.divisions[].division.id":
            return (document["divisions"] as? [[String: Any]] ?? []).contains {
                text(($0["division"] as? [String: Any])?["id"])
            }
        case "conversation.participants[].wrapup.code":
            return participants.contains { text(($0["wrapup"] as? [String: Any])?["code"]) }
        case "conversation.startTime", "conversation.endTime", "conversation.recordingState",
            "conversation.externalTag":
            return text(document[String(path.description.dropFirst("conversation.".count))])
        default:
            Issue.record("no hand-written check for \(path)")
            return false
        }
    }

    static func removingConvoy(_ value: Any) -> Any {
        if let object = value as? [String: Any] {
            return object.filter { $0.key != "convoy" }.mapValues(removingConvoy)
        }
        if let array = value as? [Any] { return array.map(removingConvoy) }
        return value
    }
}
