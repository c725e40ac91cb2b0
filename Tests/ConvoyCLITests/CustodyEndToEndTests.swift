import Convoy
import ConvoyCLI
import ConvoyMock
import Foundation
import Testing

/// The manifest, `convoy verify` and `--output -`, end to end against the mock.
@Suite(.serialized, .timeLimit(.minutes(2))) struct CustodyEndToEndTests {
    static func manifests(_ path: String) throws -> [RunManifest] {
        try ManifestLog(path: path).lines().map(RunManifest.decode)
    }

    /// Starts the real `convoy fetch` on `input`, output and errors in `scratch`.
    static func start(_ server: MockAPIServer, input: String, _ scratch: borrowing TemporaryDirectory) throws -> Process
    {
        let process = Process()
        process.executableURL = try convoyExecutable()
        process.arguments = [
            "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("out.ndjson"),
            "--no-progress",
        ]
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        return process
    }

    @Test func fourRunsLeaveThreeChainedLinesThatVerify() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(
            MockServerConfiguration(
                rateLimit: .fixedWindow(limit: 40, window: .milliseconds(250)), latency: .fixed(.milliseconds(10)),
                missingPerMille: 20))
        defer { server.shutdown() }
        let all = MockConversationStore.sampleIDs(count: 400, seed: 21)
        let input = try writeIDs(all, in: scratch)
        let output = scratch.file("out.ndjson")
        let errors = scratch.file("out.errors.ndjson")
        let manifest = scratch.file("out.manifest.ndjson")

        // Each killed or interrupted run gets a number of answers and then none (the mock holds them),
        // so none can finish before its signal, however slowly this test is scheduled.
        // 1. Ctrl-C: the run writes its line.
        server.holdAnswers(after: 100)
        let first = try Self.start(server, input: input, scratch)
        try await waitUntil { lineCount(output) >= 60 }
        kill(first.processIdentifier, SIGINT)
        first.waitUntilExit()
        #expect(first.terminationStatus == 130)
        var lines = try Self.manifests(manifest)
        #expect(lines.count == 1)
        #expect(lines[0].outcome == .interrupted && lines[0].previous == nil)
        #expect(lines[0].output.lines == lineCount(output))

        // 2. kill -9: no line, records the manifest does not cover, maybe a torn line.
        let covered = lineCount(output)
        server.holdAnswers(after: 100)
        let second = try Self.start(server, input: input, scratch)
        try await waitUntil { lineCount(output) >= covered + 60 }
        kill(second.processIdentifier, SIGKILL)
        second.waitUntilExit()
        #expect(try Self.manifests(manifest).count == 1, "a kill writes no line")
        let uncovered = lineCount(output) - covered + lineCount(errors) - lines[0].errors.lines

        // 3. A resume that counts what the killed run left, then is interrupted itself.
        server.holdAnswers(after: 200)
        let third = try Self.start(server, input: input, scratch)
        try await waitUntil { lineCount(output) >= covered + 150 || !third.isRunning }
        kill(third.processIdentifier, SIGINT)
        third.waitUntilExit()
        lines = try Self.manifests(manifest)
        #expect(lines.count == 2)
        #expect(lines[1].found.previousOutputRead == false, "went on from run 1's SHA-256 midstate")
        #expect(lines[0].output.sha256State != nil && lines[1].output.sha256State != nil)
        #expect(
            lines[1].found.uncoveredOutputRecords + lines[1].found.uncoveredErrorRecords == uncovered
                && uncovered >= 60, "the resume counts the killed run's records")

        // 4. The final resume, in process.
        server.holdAnswers(after: nil)
        let (status, console) = await convoy([
            "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", output, "--no-progress",
        ])
        #expect(status == 2, "the mock's missing ids fail: \(console.capturedError)")
        lines = try Self.manifests(manifest)
        #expect(lines.count == 3)
        let last = try #require(lines.last)
        #expect(last.outcome == .completed && last.input.complete && last.input.records == all.count)
        #expect(last.output.sha256 == (try Coreutils.sha256sum(output)))
        #expect(last.errors.sha256 == (try Coreutils.sha256sum(errors)))
        #expect(last.input.sha256 == (try Coreutils.sha256sum(input)))
        #expect(last.output.lines + last.errors.lines == all.count)

        // The killed run's records are whole and accounted for, but no line vouches for them: verify
        // says so, naming them, and finds nothing else.
        let (verified, report) = await convoy(["verify", output, "--input", input])
        #expect(verified == 1, "\(report.capturedOutput)")
        #expect(
            report.capturedOutput.contains(
                "  FAIL  run 2 began with \(lines[1].found.uncoveredOutputRecords) records in the output that no run "
                    + "vouches for (planted, or left by a run killed before it wrote its line): "),
            "\(report.capturedOutput)")
        let problems = lines[1].found.uncoveredErrorRecords > 0 ? 2 : 1
        #expect(
            report.capturedOutput.hasSuffix(
                "NOT verified: \(problems) discrepancies\n".replacingOccurrences(
                    of: "1 discrepancies", with: "1 discrepancy")))
        #expect(report.capturedOutput.contains("manifest \(ManifestLog.defaultPath(for: output)): 3 runs"))
        #expect(report.capturedOutput.contains("input: \(all.count) ids"))
    }

    /// Two runs on one output (a subset, then everything), for the tampering checks.
    static func twoRuns(in scratch: borrowing TemporaryDirectory) async throws -> (input: String, all: [String]) {
        let server = try MockAPIServer.start(MockServerConfiguration(missingPerMille: 100))
        defer { server.shutdown() }
        let all = MockConversationStore.sampleIDs(count: 60, seed: 22)
        let firstInput = scratch.file("first.txt")
        try all.prefix(30).joined(separator: "\n").write(toFile: firstInput, atomically: true, encoding: .utf8)
        let input = try writeIDs(all, in: scratch)
        for ids in [firstInput, input] {
            let (status, console) = await convoy([
                "fetch", ids, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("out.ndjson"),
                "--no-progress",
            ])
            #expect(status == 2, "\(console.capturedError)")
        }
        return (input, all)
    }

    /// A resume goes on from the last line's midstate without reading what that line covers, so an
    /// edit there is caught by verify (the new line's hash is not the file's); `--check-output`
    /// reads it all and says so at once.
    @Test func anEditBetweenRunsIsCaughtByVerifyOrByCheckOutput() async throws {
        let scratch = try TemporaryDirectory()
        let (input, _) = try await Self.twoRuns(in: scratch)
        let server = try MockAPIServer.start(MockServerConfiguration(missingPerMille: 100))
        defer { server.shutdown() }
        let output = scratch.file("out.ndjson")
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: output)))
        let at = bytes.firstIndex(of: UInt8(ascii: "\n"))! - 10
        bytes[at] = bytes[at] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        try Data(bytes).write(to: URL(fileURLWithPath: output))
        let fetch = ["fetch", input, "--api-base", server.baseURL.absoluteString, "--output", output, "--no-progress"]

        let (_, quick) = await convoy(fetch)
        #expect(!quick.capturedError.contains("no longer begins"), "nothing read, nothing said")
        var lines = try Self.manifests(scratch.file("out.manifest.ndjson"))
        #expect(lines.last?.found.previousOutputRead == false && lines.last?.found.previousOutputIntact == nil)
        #expect(lines.last?.output.sha256 != (try Coreutils.sha256sum(output)), "the line's hash is not the file's")
        let (verified, report) = await convoy(["verify", output, "--input", input])
        #expect(verified == 1, "\(report.capturedOutput)")
        #expect(report.capturedOutput.contains("output: SHA-256 is"))

        let (_, checked) = await convoy(fetch + ["--check-output"])
        #expect(checked.capturedError.contains("no longer begins with what the last run recorded"))
        lines = try Self.manifests(scratch.file("out.manifest.ndjson"))
        #expect(lines.last?.found.previousOutputRead == true && lines.last?.found.previousOutputIntact == false)
        #expect(lines.last?.output.sha256 == (try Coreutils.sha256sum(output)), "read in full, hashed in full")
    }

    @Test func tamperingOfEachKindIsCaught() async throws {
        let scratch = try TemporaryDirectory()
        let (input, all) = try await Self.twoRuns(in: scratch)
        let output = scratch.file("out.ndjson")
        let manifest = scratch.file("out.manifest.ndjson")
        let errors = scratch.file("out.errors.ndjson")
        let (clean, report) = await convoy(["verify", output, "--input", input])
        #expect(clean == 0, "\(report.capturedOutput)")
        #expect(report.capturedOutput.contains("begins with what each earlier run did"))

        func tampered(_ path: String, _ change: (inout [UInt8]) -> Void) async throws -> String {
            let original = try Data(contentsOf: URL(fileURLWithPath: path))
            defer { try? original.write(to: URL(fileURLWithPath: path)) }
            var bytes = Array(original)
            change(&bytes)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let (status, console) = await convoy(["verify", output, "--input", input])
            #expect(status == 1, "caught: \(console.capturedOutput)")
            return console.capturedOutput
        }
        // A flipped byte in a record the first run wrote (inside a string, so the JSON stays valid).
        let flipped = try await tampered(output) { bytes in
            let at = bytes.firstIndex(of: UInt8(ascii: "\n"))! - 10
            bytes[at] = bytes[at] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        }
        #expect(flipped.contains("output: SHA-256 is"))
        #expect(flipped.contains("are not what run 1 recorded"))
        #expect(flipped.contains("the change is in records 1–"), "the tampered record's run and lines are named")
        // A deleted record: hashes, sizes, the line count, and the input accounting all say so.
        let deleted = try await tampered(output) { bytes in
            let end = bytes.firstIndex(of: UInt8(ascii: "\n"))!
            bytes.removeSubrange(0...end)
        }
        #expect(deleted.contains("lines, the manifest says"))
        #expect(deleted.contains("1 input ids are in neither file"))
        // An edited manifest: the first line (a count), then the last.
        for line in [0, 1] {
            let edited = try await tampered(manifest) { bytes in
                var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).map(Array.init)
                let text = String(decoding: lines[line], as: UTF8.self)
                lines[line] = Array(text.replacingOccurrences(of: #""requests":"#, with: #""requests":1"#).utf8)
                bytes = lines.flatMap { $0 + [UInt8(ascii: "\n")] }
            }
            #expect(edited.contains("manifest line \(line + 1): its seal does not match"))
            if line == 0 { #expect(edited.contains("manifest line 2 does not chain to line 1")) }
        }
        // A removed manifest line breaks the chain.
        let removed = try await tampered(manifest) { bytes in
            let end = bytes.firstIndex(of: UInt8(ascii: "\n"))!
            bytes.removeSubrange(0...end)
        }
        #expect(removed.contains("manifest line 1 names a previous line that is not there"))
        // A failure deleted from the errors file.
        let failure = try await tampered(errors) { bytes in
            let end = bytes.firstIndex(of: UInt8(ascii: "\n"))!
            bytes.removeSubrange(0...end)
        }
        #expect(failure.contains("errors: SHA-256 is"))
        #expect(failure.contains("1 input ids are in neither file"))
        // A record added for an id the input does not hold.
        let added = try await tampered(output) { bytes in
            bytes += Array(#"{"id":"\#(MockConversationStore.sampleIDs(count: 1, seed: 99)[0])"}"#.utf8) + [10]
        }
        #expect(added.contains("1 records are for ids the input does not hold"))
        #expect(all.count == 60)
    }

    @Test func theStreamHashesToWhatTheManifestRecords() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration(missingPerMille: 50))
        defer { server.shutdown() }
        let all = MockConversationStore.sampleIDs(count: 120, seed: 23)
        let input = try writeIDs(all, in: scratch)
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        let reader = FileHandle(fileDescriptor: descriptors[0], closeOnDealloc: true)
        let drained = Task.detached { reader.readDataToEndOfFile() }
        let console = Console.capturing(recordStream: descriptors[1])
        let status = await ConvoyCommandLine.main(
            [
                "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", "-",
                "--errors", scratch.file("errors.ndjson"), "--manifest", scratch.file("run.manifest.ndjson"),
            ], environment: [:], console: console)
        close(descriptors[1])
        let streamed = await drained.value
        #expect(status == 2, "\(console.capturedError)")
        let manifest = try #require(try Self.manifests(scratch.file("run.manifest.ndjson")).last)
        #expect(manifest.output.path == "-" && !manifest.resumable)
        #expect(manifest.output.bytes == Int64(streamed.count))
        #expect(manifest.output.sha256 == SHA256.hex(SHA256.hash(streamed)))
        let stored = scratch.file("stored.ndjson")
        try streamed.write(to: URL(fileURLWithPath: stored))
        #expect(manifest.output.sha256 == (try Coreutils.sha256sum(stored)))
        let streamedIDs = try ids(stored)
        let failed = try ids(scratch.file("errors.ndjson"))
        #expect(Set(streamedIDs).union(failed) == Set(all) && streamedIDs.count + failed.count == all.count)
        #expect(console.capturedOutput.isEmpty, "records bypass the console; nothing else goes to stdout")
        // Every failure names the answer it rests on.
        let answered = server.counters().correlationIDsByID
        for failure in try records(scratch.file("errors.ndjson")) {
            let id = try #require(failure["id"] as? String)
            #expect(failure["status"] as? Int == 404)
            #expect(failure["correlationId"] as? String == answered[id]?.last)
        }

        let (verified, report) = await convoy([
            "verify", stored, "--manifest", scratch.file("run.manifest.ndjson"), "--input", input,
        ])
        #expect(verified == 0, "\(report.capturedOutput)")
    }

    @Test func aReaderThatGoesAwayStopsTheRunWithAManifest() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(
            MockServerConfiguration(rateLimit: .fixedWindow(limit: 40, window: .milliseconds(250))))
        defer { server.shutdown() }
        let input = try writeIDs(MockConversationStore.sampleIDs(count: 400, seed: 24), in: scratch)
        let process = Process()
        process.executableURL = try convoyExecutable()
        process.currentDirectoryURL = URL(fileURLWithPath: scratch.path)
        process.arguments = [
            "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", "-", "--no-progress",
        ]
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Read a few records, then hang up, as `| head -c 20000` would.
        var received = 0
        while received < 20_000 { received += stdout.fileHandleForReading.availableData.count }
        try stdout.fileHandleForReading.close()
        let report = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 1, "\(report)")
        #expect(report.contains("closed by its reader"), "\(report)")
        let files = try FileManager.default.contentsOfDirectory(atPath: scratch.path)
        let manifestName = try #require(files.first { $0.hasPrefix("convoy-") && $0.hasSuffix(".manifest.ndjson") })
        #expect(files.contains(manifestName.replacingOccurrences(of: ".manifest.", with: ".errors.")))
        let manifest = try #require(try Self.manifests(scratch.file(manifestName)).last)
        #expect(manifest.outcome == .outputClosed)
        #expect(manifest.output.bytes >= Int64(received) && manifest.counts.fetched > 0)
    }
}
