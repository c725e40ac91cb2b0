import Convoy
import ConvoyLoad
import ConvoyMock
import Foundation
import Glibc
import Testing

@testable import ConvoyCLI

/// What users see: figures in their own units, endings said last, errors that name their cause,
/// and live lines that fit the terminal (issue 27).
@Suite(.serialized, .timeLimit(.minutes(2))) struct HonestOutputTests {
    /// A port nothing listens on: a listener bound and closed again.
    static func closedPort() throws -> Int {
        let server = try MockAPIServer.start(MockServerConfiguration())
        let port = Int(server.port)
        server.shutdown()
        return port
    }

    /// The last line of `text` that is not empty.
    static func lastLine(_ text: String) -> String {
        text.split(separator: "\n").last.map(String.init) ?? ""
    }

    // MARK: loadtest

    @Test func aRateDividesByTheRunsDurationAndTheThresholdShowsItsUnit() async throws {
        let server = try MockAPIServer.start(
            MockServerConfiguration(rateLimit: .fixedWindow(limit: 1, window: .seconds(60))))
        defer { server.shutdown() }
        let (status, console) = await convoy([
            "loadtest", server.baseURL.absoluteString + "/api/v2/conversations/{id}", "--rate", "2/s", "--duration",
            "1s", "--no-progress", "--threshold", "http_429_rate<1%", "--threshold", "p99<1s",
        ])
        let output = console.capturedOutput
        #expect(status == 99, "\(output)\(console.capturedError)")
        #expect(output.contains("  requests   2 sent in 1.0 s (2.0/s), 0 dropped"), "\(output)")
        #expect(output.contains("FAIL http_429_rate<1%  (measured 50.0 %)"), "\(output)")
        #expect(output.contains(#/ok   p99<1s  \(measured 0\.\d{3} s\)/#), "\(output)")
        #expect(Self.lastLine(output) == "RESULT     failed: 1 of 2 thresholds did not hold", "\(output)")
    }

    @Test func aClosedPortIsNamedAsTheReasonAndTheRunFails() async throws {
        let scratch = try TemporaryDirectory()
        let port = try Self.closedPort()
        let (status, console) = await convoy([
            "loadtest", "http://127.0.0.1:\(port)/x", "--rate", "20/s", "--duration", "1s", "--no-progress",
            "--requests", scratch.file("r.ndjson"),
        ])
        let output = console.capturedOutput
        let reason = "cannot connect to http://127.0.0.1:\(port): Connection refused"
        #expect(status == 1, "\(output)")
        #expect(output.contains("  failures   \(reason) ×20"), "\(output)")
        #expect(Self.lastLine(output) == "RESULT     failed: no request was answered (\(reason) ×20)")
        let lines = try records(scratch.file("r.ndjson"))
        #expect(lines.count == 20)
        #expect(lines.allSatisfy { $0["error"] as? String == reason && $0["status"] is NSNull })
    }

    @Test func anInterruptedLoadTestSaysSoLast() async throws {
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let console = Console.capturing()
        let run = Task {
            await ConvoyCommandLine.main(
                [
                    "loadtest", server.baseURL.absoluteString + "/x", "--rate", "20/s", "--duration", "1m",
                    "--no-progress", "--threshold", "p99<1ms",
                ], environment: [:], console: console)
        }
        try await waitUntil { server.counters().requests >= 3 }
        run.cancel()
        #expect(await run.value == 130)
        let output = console.capturedOutput
        #expect(Self.lastLine(output) == "RESULT     interrupted (Ctrl-C): the figures are of what ran", "\(output)")
        #expect(!output.contains("LOAD TEST (interrupted"))
    }

    @Test(arguments: ["--chart", "--summary-export", "--timeline", "--requests"])
    func anUnwritableOutputFailsBeforeAnyRequest(_ option: String) async throws {
        let scratch = try TemporaryDirectory()
        try Data().write(to: URL(fileURLWithPath: scratch.file("plain")))
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let path = scratch.file("plain/x.out")
        let (status, console) = await convoy([
            "loadtest", server.baseURL.absoluteString + "/x", "--rate", "10/s", "--duration", "1s", option, path,
        ])
        #expect(status == 1)
        #expect(
            console.capturedError.hasSuffix(
                "convoy: error: \(option) \(path) cannot be written: \(scratch.file("plain")) is not a folder\n"),
            "\(console.capturedError)")
        #expect(server.counters().requests == 0, "no load before the outputs are known to be writable")
    }

    @Test func theSummaryExportGoesToStandardOutputInK6sShape() async throws {
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let url = "http://user:pa55word@127.0.0.1:\(server.port)/api/v2/conversations/{id}"
        let (status, console) = await convoy([
            "loadtest", url, "--rate", "20/s", "--duration", "500ms", "--no-progress", "--summary-export", "-",
            "--threshold", "p95<10s", "--threshold", "http_429_rate<1%",
        ])
        #expect(status == 0, "\(console.capturedError)")
        let export = try #require(
            JSONSerialization.jsonObject(with: Data(console.capturedOutput.utf8)) as? [String: Any],
            "standard output holds the JSON alone: \(console.capturedOutput)")
        #expect(console.capturedError.contains("LOAD TEST"), "the report moves to standard error")
        let metrics = try #require(export["metrics"] as? [String: [String: Any]])
        let requests = try #require(metrics["http_reqs"]?["values"] as? [String: Double])
        #expect(requests["count"] == 10 && abs((requests["rate"] ?? 0) - 20) < 0.5, "\(requests)")
        let duration = try #require(metrics["http_req_duration"])
        let values = try #require(duration["values"] as? [String: Double])
        #expect(Set(values.keys).isSuperset(of: ["min", "med", "avg", "max", "p(90)", "p(95)"]))
        #expect((duration["thresholds"] as? [String: [String: Bool]]) == ["p95<10s": ["ok": true]])
        #expect(
            (metrics["http_429_rate"]?["thresholds"] as? [String: [String: Bool]]) == ["http_429_rate<1%": ["ok": true]]
        )
        #expect((metrics["http_req_failed"]?["values"] as? [String: Double])?["rate"] == 0)
        let meta = try #require(export["convoy"] as? [String: Any])
        #expect(meta["version"] as? String == FetchRunner.version && meta["method"] as? String == "GET")
        #expect((meta["url"] as? String)?.contains("pa55word") == false, "\(meta["url"] ?? "")")
        #expect((meta["model"] as? String)?.hasPrefix("open, 20.0/s") == true && meta["start"] is String)
        #expect(!console.capturedOutput.contains("pa55word") && !console.capturedError.contains("pa55word"))
    }

    @Test func idsCanComeFromStandardInput() async throws {
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let known = MockConversationStore.sampleIDs(count: 1, seed: 31)[0]
        let scratch = try TemporaryDirectory()
        try "\(known)\n".write(toFile: scratch.file("in.txt"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = try convoyExecutable()
        process.arguments = [
            "loadtest", server.baseURL.absoluteString + "/api/v2/conversations/{id}", "--ids", "-", "--rate", "10/s",
            "--duration", "300ms", "--no-progress",
        ]
        process.standardInput = FileHandle(forReadingAtPath: scratch.file("in.txt"))
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(server.counters().hitsByID[known] == 3)
    }

    @Test func theLiveLoadLineFitsTheTerminal() {
        var progress = LoadRunner<ContinuousClock>.Progress()
        progress.sent = 123_456
        progress.answered = 123_000
        progress.throttled = 4_321
        progress.failed = 12
        progress.dropped = 7
        for width in [40, 80, 200] {
            let line = LoadTestCommand.progressLine(
                progress, elapsed: 90, total: 300, currentRate: 198.4, targetRate: 200, width: width)
            #expect(line.count < width, "\(width): \(line)")
            #expect(line.hasPrefix("1m30s/5m00s  30 %  rate 198/200/s"), "\(width): \(line)")
        }
        let wide = LoadTestCommand.progressLine(
            progress, elapsed: 90, total: 300, currentRate: 198.4, targetRate: 200, width: 200)
        #expect(
            wide == "1m30s/5m00s  30 %  rate 198/200/s  sent 123456  in flight 456  429s 4321  failed 12  dropped 7")
    }

    @Test func theWidthComesFromTheTerminalElseCOLUMNSElse80() {
        // Under the test runner standard error is a file or a pipe, so the window size is not asked.
        guard isatty(STDERR_FILENO) == 0 else { return }
        #expect(ProgressLine.terminalColumns(environment: ["COLUMNS": "57"]) == 57)
        #expect(ProgressLine.terminalColumns(environment: ["COLUMNS": "wide"]) == 80)
        #expect(ProgressLine.terminalColumns(environment: [:]) == 80)
    }

    @Test func aLineTooNarrowKeepsWhatFitsElseTheFirstCut() {
        var line = ProgressLine()
        line.add("1m30s/5m00s", priority: 0)
        line.add("30 %", priority: 1)
        #expect(line.fitted(width: 4) == "1m3", "nothing fits: the first, cut")
        #expect(line.fitted(width: 8) == "30 %", "what fits of the rest, when the first does not")
        #expect(line.fitted(width: 12) == "1m30s/5m00s")
        #expect(line.fitted(width: 18) == "1m30s/5m00s  30 %")
    }

    // MARK: fetch

    @Test func theFetchProgressLineFitsTheTerminal() {
        var summary = ProgressLineTests.summary(fetched: 123_456, skipped: 50_000)
        summary.failed = 789
        summary.throttled = 4_321
        let job = SummaryReport.Job(total: 3_000_000, requestsPerID: 2)
        for width in [40, 80, 200] {
            let line = SummaryReport.progressLine(summary, elapsed: 100, job: job, width: width)
            #expect(line.count < width, "\(width): \(line)")
            #expect(line.contains("5.8 %") && line.contains("ETA "), "\(width): \(line)")
        }
        #expect(
            SummaryReport.progressLine(summary, elapsed: 100, job: job, width: 40)
                == "5.8 %  ETA 13d01h  fetched 123456")
        #expect(
            SummaryReport.progressLine(summary, elapsed: 100, job: job, width: 200)
                == "[#...................]  5.8 %  174245/3000000  ETA 13d01h  fetched 123456  failed 789  skipped 50000  "
                + "429s 4321  1234.6/s  limit 5.0/s")
    }

    @Test func aDeadServerIsSaidAtOnceAndCtrlCCountsWhatRemained() async throws {
        let scratch = try TemporaryDirectory()
        let ids = MockConversationStore.sampleIDs(count: 1000, seed: 5)
        let input = scratch.file("ids.txt")
        try (ids.joined(separator: "\n") + "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let port = try Self.closedPort()
        let console = Console.capturing()
        let run = Task {
            await ConvoyCommandLine.main(
                ["fetch", input, "--api-base", "http://127.0.0.1:\(port)", "--output", scratch.file("o.ndjson")],
                environment: [:], console: console)
        }
        try await waitUntil(timeout: .seconds(10)) { console.capturedError.contains("convoy: a request failed: ") }
        #expect(
            console.capturedError.contains(
                "convoy: a request failed: cannot connect to http://127.0.0.1:\(port): Connection refused (an id that "
                    + "keeps failing goes to the errors file with its reason)"))
        run.cancel()
        #expect(await run.value == 130)
        let text = console.capturedError
        let failed = try #require(text.firstMatch(of: #/  failed +(\d+)/#).map { Int($0.1)! })
        let left = try #require(text.firstMatch(of: #/  left +(\d+)  ids/#).map { Int($0.1)! }, "\(text)")
        #expect(left == 1000 - failed, "\(text)")
        #expect(Self.lastLine(text) == "convoy: interrupted: re-run the same command to resume")
        #expect(!text.contains("interrupted after"))
    }

    @Test func aFatal401EndsWithTheErrorNotAnInterruption() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(
            MockServerConfiguration(oauth: MockOAuth(clientId: "convoy-test", clientSecret: "the-right-one")))
        defer { server.shutdown() }
        let input = try writeIDs(MockConversationStore.sampleIDs(count: 3, seed: 2), in: scratch)
        let (status, console) = await convoy(
            [
                "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("o.ndjson"),
                "--no-progress",
            ], environment: ["GENESYSCLOUD_ACCESS_TOKEN": "not-the-token"])
        let text = console.capturedError
        #expect(status == 1)
        #expect(!text.contains("interrupted"), "\(text)")
        #expect(Self.lastLine(text).hasPrefix("convoy: error: HTTP 401"), "\(text)")
        #expect(text.contains("convoy: summary of "))
    }

    @Test func aFetchThatEndsSaysDoneLast() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let input = try writeIDs(MockConversationStore.sampleIDs(count: 3, seed: 2), in: scratch)
        let (status, console) = await convoy([
            "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("o.ndjson"),
            "--no-progress",
        ])
        #expect(status == 0)
        #expect(Self.lastLine(console.capturedError) == "convoy: done", "\(console.capturedError)")
    }

    @Test func theFetchSummaryCountsTheReasonsOfItsFailures() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration(missingPerMille: 500))
        defer { server.shutdown() }
        let input = try writeIDs(MockConversationStore.sampleIDs(count: 40, seed: 9), in: scratch)
        let (status, console) = await convoy([
            "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("o.ndjson"),
            "--no-progress",
        ])
        let text = console.capturedError
        #expect(status == 2)
        let failed = try #require(text.firstMatch(of: #/  failed +(\d+)/#).map { Int($0.1)! })
        #expect(failed > 0 && failed == lineCount(scratch.file("o.errors.ndjson")))
        #expect(text.contains("  reasons   not found (HTTP 404) ×\(failed)\n"), "\(text)")
        #expect(
            Self.lastLine(text) == "convoy: done: \(failed) ids failed (reasons in \(scratch.file("o.errors.ndjson")))")
    }

    @Test func fetchChecksItsOutputsBeforeAnyRequest() async throws {
        let scratch = try TemporaryDirectory()
        try Data().write(to: URL(fileURLWithPath: scratch.file("plain")))
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let input = try writeIDs(MockConversationStore.sampleIDs(count: 3, seed: 2), in: scratch)
        let (status, console) = await convoy([
            "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("o.ndjson"),
            "--errors", scratch.file("plain/e.ndjson"),
        ])
        #expect(status == 1)
        #expect(
            console.capturedError
                == "convoy: error: --errors \(scratch.file("plain/e.ndjson")) cannot be written: "
                + "\(scratch.file("plain")) is not a folder\n")
        #expect(server.counters().requests == 0)
    }

    // MARK: the command line

    @Test func verifyOfAMissingFileSaysItIsMissing() async throws {
        let scratch = try TemporaryDirectory()
        let (status, console) = await convoy(["verify", scratch.file("absent.ndjson")])
        #expect(status == 1)
        #expect(
            console.capturedError
                == "convoy: error: \(scratch.file("absent.ndjson")) does not exist: nothing to verify\n")
        try "".write(toFile: scratch.file("o.ndjson"), atomically: true, encoding: .utf8)
        let (noManifest, second) = await convoy(["verify", scratch.file("o.ndjson")])
        #expect(noManifest == 1)
        #expect(second.capturedError.hasPrefix("convoy: error: no manifest at \(scratch.file("o.manifest.ndjson"))"))
    }

    @Test(arguments: [
        UsageCase(["fetch", "ids.txt", "--bogus"], "unknown option --bogus"),
        UsageCase(
            ["fetch", "ids.txt", "--concurency", "4"], "unknown option --concurency (did you mean '--concurrency'?)"),
        UsageCase(["loadtest", "--rat", "5/s"], "unknown option --rat (did you mean '--rate'?)", help: "loadtest"),
        UsageCase(
            ["verify", "o.ndjson", "--manifset", "m"], "unknown option --manifset (did you mean '--manifest'?)",
            help: "verify"),
        UsageCase(
            ["loadtest", "https://x.example/a", "--ids", "-", "--body-file", "-"],
            "--ids and --body-file cannot both read standard input", help: "loadtest"),
        UsageCase(
            [
                "loadtest", "https://x.example/a", "--rate", "1/s", "--duration", "1s", "--chart", "-", "--requests",
                "-",
            ],
            "only one output can be standard output ('-'), not --chart and --requests", help: "loadtest"),
        UsageCase(
            ["fetch", "--region", "eu-wset-1"],
            "unknown region 'eu-wset-1' (did you mean 'eu-west-1'?); valid regions: \(GenesysRegion.validNames)"),
        UsageCase(["fecth"], "unknown command 'fecth' (did you mean 'fetch'?)", help: nil),
        UsageCase(["help", "bogus"], "no help for 'bogus': not a command", help: nil),
        UsageCase(["help", "lodtest"], "no help for 'lodtest': not a command (did you mean 'loadtest'?)", help: nil),
        UsageCase(["completion", "tcsh"], "convoy completion takes bash, zsh or fish, not 'tcsh'", help: "completion"),
        UsageCase(
            ["loadtest", "https://x.example/a", "--rate", "1/s", "--duration", "1m30"],
            "--duration takes a duration such as 30s, 1m30s or 500ms, not '1m30'", help: "loadtest"),
    ])
    func usageMistakesAreNamedFirst(_ usage: UsageCase) async {
        let (status, console) = await convoy(usage.arguments)
        #expect(status == 64)
        #expect(console.capturedError == usage.expectedError)
    }

    @Test func aCompoundDurationIsAccepted() async throws {
        let command = try LoadTestCommand(
            arguments: ["https://x.example/a", "--rate", "1/s", "--duration", "1m30s"], environment: [:])
        #expect(command.mode == .schedule(.constant(rate: 1, duration: 90)))
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsNameEveryCommandAndOption(_ shell: String) async throws {
        let (status, console) = await convoy(["completion", shell])
        #expect(status == 0)
        let script = console.capturedOutput
        for command in ConvoyCommandLine.commands.map(\.name) { #expect(script.contains(command)) }
        #expect(script.contains("--summary-export") || script.contains("-l summary-export"))
        #expect(script.contains("--max-in-flight") || script.contains("-l max-in-flight"))
        if shell == "bash" {
            let scratch = try TemporaryDirectory()
            try script.write(toFile: scratch.file("c.bash"), atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-n", scratch.file("c.bash")]
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "bash parses the script")
        }
    }

    // MARK: no Foundation error text

    @Test func noErrorPathPrintsFoundationsErrorText() async throws {
        let scratch = try TemporaryDirectory()
        try Data().write(to: URL(fileURLWithPath: scratch.file("plain")))
        let export = scratch.file("export")
        #expect(await convoy(["mock-export", export, "--conversations", "3"]).status == 0)
        let blocked = scratch.file("plain/sub")
        let runs: [[String]] = [
            ["mock-export", blocked, "--conversations", "3"],
            ["enrich", export, "--records", blocked, "--out", scratch.file("e1")],
            ["enrich", blocked, "--records", scratch.file("plain"), "--out", scratch.file("e2")],
            ["enrich", export, "--records", scratch.file("plain"), "--out", blocked],
            ["verify", blocked],
            ["verify", scratch.file("plain"), "--manifest", blocked],
            ["verify", scratch.file("e1")],
            ["fetch", blocked, "--api-base", "http://127.0.0.1:1"],
            ["fetch", "--from-export", blocked, "--api-base", "http://127.0.0.1:1"],
            ["fetch", scratch.file("plain"), "--api-base", "http://127.0.0.1:1", "--output", blocked],
            ["fetch", scratch.file("plain"), "--api-base", "http://127.0.0.1:1", "--manifest", blocked],
            ["demo", "--out-dir", blocked],
            ["loadtest", "http://127.0.0.1:1/x", "--rate", "1/s", "--duration", "1s", "--chart", blocked],
            ["loadtest", "http://127.0.0.1:1/x", "--rate", "1/s", "--duration", "1s", "--summary-export", blocked],
            ["loadtest", "http://127.0.0.1:1/x", "--rate", "1/s", "--duration", "1s", "--ids", blocked],
            ["loadtest", "http://127.0.0.1:1/x", "--rate", "1/s", "--duration", "1s", "--body-file", blocked],
            ["loadtest", "http://127.0.0.1:1/x", "--find-limit", "--tokens", blocked],
        ]
        for arguments in runs {
            let (status, console) = await convoy(arguments)
            let text = console.capturedOutput + console.capturedError
            #expect(status != 0, "\(arguments): \(text)")
            #expect(text.contains("convoy: error: "), "\(arguments): \(text)")
            for raw in ["NSCocoaErrorDomain", "Error Domain", "NSError", "NSPOSIX", "CocoaError"] {
                #expect(!text.contains(raw), "\(arguments): \(text)")
            }
        }
    }
}
