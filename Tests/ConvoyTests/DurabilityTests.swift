import Convoy
import ConvoyMock
import Foundation
import Testing

/// When records reach the disk, observed through the ``FileSystem`` seam.
@Suite(.timeLimit(.minutes(1))) struct DurabilityTests {
    static let id = ConversationID("aaaaaaaa-0000-4000-8000-000000000001")!

    @Test func recordsAreSyncedOnceTheIntervalHasPassed() throws {
        let folder = try TemporaryDirectory()
        let clock = ManualClock()
        let files = RecordingFileSystem()
        let store = try OutputStore(
            outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson"), syncInterval: .seconds(1),
            clock: clock, fileSystem: files)
        files.reset()
        func write() throws {
            try store.writeSuccess(
                id: Self.id, attempts: 1,
                parts: [
                    RecordPart(
                        key: "conversation", json: Array("{}".utf8), sources: [.init(status: 200, correlationID: nil)])
                ])
        }

        try write()
        clock.advance(by: .milliseconds(999))
        try write()
        #expect(files.calls == [.write("o.ndjson"), .write("o.ndjson")], "not yet: the interval has not passed")
        clock.advance(by: .milliseconds(1))
        try write()
        #expect(files.calls == [.write("o.ndjson"), .write("o.ndjson"), .write("o.ndjson"), .fsync("o.ndjson")])

        files.reset()
        clock.advance(by: .milliseconds(500))
        try store.writeFailure(FetchFailure(id: "x", status: 404, reason: "not found", attempts: 1, retryable: false))
        #expect(files.calls == [.write("e.ndjson")])
        try store.sync()
        #expect(files.calls == [.write("e.ndjson"), .fsync("e.ndjson")], "only the file with unsynced records")
    }

    @Test func anAtomicReplaceWritesSyncsRenamesThenSyncsTheFolder() throws {
        let folder = try TemporaryDirectory()
        let files = RecordingFileSystem()
        let path = folder.file("state.json")
        try AtomicFile.replace(path: path, lines: [ArraySlice("one".utf8), ArraySlice("two".utf8)], fileSystem: files)
        // A new temp file under a random name: the first call opens it.
        guard case .open(let temp) = try #require(files.calls.first) else {
            Issue.record("the first call is not an open: \(files.calls)")
            return
        }
        #expect(temp.hasPrefix("state.json.tmp-\(getpid())-") && temp.count > "state.json.tmp-\(getpid())-".count + 8)
        let folderName = (folder.path as NSString).lastPathComponent
        #expect(
            files.calls == [
                .open(temp), .write(temp), .write(temp), .fsync(temp), .rename(temp, "state.json"), .open(folderName),
                .fsync(folderName),
            ])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "one\ntwo\n")
    }

    @Test(arguments: [false, true])
    func theEngineSyncsEveryRecordBeforeItReturns(interrupted: Bool) async throws {
        let folder = try TemporaryDirectory()
        let ids = makeIDs(20)
        let transport = FakeTransport { id, _ in
            if interrupted, Int(id.prefix(8), radix: 16)! >= 10 { try await Task.sleep(for: .seconds(600)) }
            return FakeTransport.ok(id)
        }
        let files = RecordingFileSystem()
        // An interval the run never reaches: every sync seen here is the engine's own on the way out.
        let store = try OutputStore(
            outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson"), syncInterval: .seconds(3600),
            fileSystem: files)
        let engine = engine(transport, concurrency: 4)
        let box = UncheckedBox(store)
        let run = Task { try await engine.run(ids: lines(["not-an-id"] + ids), store: box.value) }
        if interrupted {
            try await waitUntil { engine.progress().fetched == 10 }
            run.cancel()
        }
        let summary = try await run.valueFollowingCancellation
        #expect(summary.interrupted == interrupted)
        #expect(summary.fetched == (interrupted ? 10 : 20))
        for name in ["o.ndjson", "e.ndjson"] {
            let lastWrite = try #require(files.calls.lastIndex(of: .write(name)))
            let lastSync = try #require(files.calls.lastIndex(of: .fsync(name)), "\(name) never synced")
            #expect(lastSync > lastWrite, "\(name) has records written after its last sync")
        }
    }

    @Test func aManifestLineIsSyncedAndSoIsTheFolderOfANewManifest() throws {
        let folder = try TemporaryDirectory()
        let files = RecordingFileSystem()
        let log = ManifestLog(path: folder.file("m.ndjson"), fileSystem: files)
        try log.append(CustodyTests.manifest(fetched: 1))
        let folderName = (folder.path as NSString).lastPathComponent
        #expect(
            files.calls == [
                .open("m.ndjson"), .write("m.ndjson"), .fsync("m.ndjson"), .open(folderName), .fsync(folderName),
            ])
        files.reset()
        try log.append(CustodyTests.manifest(fetched: 2))
        #expect(
            files.calls == [.open("m.ndjson"), .write("m.ndjson"), .fsync("m.ndjson")], "the name is on disk already")
    }
}
