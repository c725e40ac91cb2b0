import Convoy
import ConvoyCLI
import ConvoyMock
import Foundation
import Testing

/// The real `convoy` process, killed and interrupted, then resumed.
@Suite(.serialized, .timeLimit(.minutes(2))) struct CrashEndToEndTests {
    static func start(_ server: MockAPIServer, input: String, _ scratch: borrowing TemporaryDirectory) throws -> Process
    {
        let process = Process()
        process.executableURL = try convoyExecutable()
        process.arguments = [
            "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("out.ndjson"),
            "--errors", scratch.file("errors.ndjson"), "--no-progress",
        ]
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        return process
    }

    @Test func aKilledRunResumesToTheExactSet() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(
            MockServerConfiguration(
                rateLimit: .fixedWindow(limit: 50, window: .milliseconds(250)), latency: .fixed(.milliseconds(10)),
                missingPerMille: 20))
        defer { server.shutdown() }
        let all = MockConversationStore.sampleIDs(count: 400, seed: 11)
        let input = try writeIDs(all, in: scratch)
        let output = scratch.file("out.ndjson")

        // The mock answers 150 requests and then holds its answers, so the run cannot finish before
        // the kill, however slowly this test is scheduled.
        server.holdAnswers(after: 150)
        let process = try Self.start(server, input: input, scratch)
        try await waitUntil { lineCount(output) >= 100 }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        server.holdAnswers(after: nil)
        #expect(process.terminationReason == .uncaughtSignal)
        let firstRun = try ids(output)
        #expect(firstRun.count < all.count, "killed mid-run")
        // Simulate the worst moment of a crash: half a record written.
        let handle = try #require(FileHandle(forWritingAtPath: output))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"id":"\#(all[0])","fetchedAt":"2026-"#.utf8))
        try handle.close()

        let hitsBefore = server.counters().hitsByID
        let (status, console) = await convoy([
            "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", output,
            "--errors", scratch.file("errors.ndjson"), "--no-progress",
        ])
        #expect(status == 2 || status == 0)
        #expect(console.capturedError.contains("torn last line"))
        let missing = Set(all.filter { !MockConversationStore.exists($0, missingPerMille: 20) })
        let fetched = try ids(output)
        let failed = try ids(scratch.file("errors.ndjson"))
        #expect(fetched.count == Set(fetched).count, "no duplicates after resume")
        #expect(Set(fetched) == Set(all).subtracting(missing))
        #expect(Set(failed) == missing)
        #expect(fetched.count + failed.count == all.count, "every id in exactly one file")
        let hitsAfter = server.counters().hitsByID
        for id in firstRun {
            #expect(hitsAfter[id] == hitsBefore[id], "\(id) was done before the kill and not fetched again")
        }
    }

    @Test func sigintStopsCleanlyAndTheRerunFinishes() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(
            MockServerConfiguration(rateLimit: .fixedWindow(limit: 40, window: .milliseconds(500))))
        defer { server.shutdown() }
        let all = MockConversationStore.sampleIDs(count: 200, seed: 12)
        let input = try writeIDs(all, in: scratch)
        let output = scratch.file("out.ndjson")
        let process = Process()
        process.executableURL = try convoyExecutable()
        process.arguments = [
            "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", output, "--no-progress",
        ]
        let stderr = Pipe()
        process.standardError = stderr
        server.holdAnswers(after: 60)  // the run cannot finish before the SIGINT
        try process.run()
        try await waitUntil { lineCount(output) >= 20 }
        kill(process.processIdentifier, SIGINT)
        let report = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        server.holdAnswers(after: nil)
        #expect(process.terminationStatus == 130)
        #expect(report.contains("interrupted"), "the summary is printed: \(report)")
        #expect(report.contains("re-run the same command to resume"))
        let partial = try ids(output)
        #expect(partial.count < all.count && partial.count == Set(partial).count)

        let (status, _) = await convoy([
            "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", output, "--no-progress",
        ])
        #expect(status == 0)
        #expect(try ids(output).sorted() == all.sorted())
    }
}
