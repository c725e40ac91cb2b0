import Convoy
import ConvoyMock
import Foundation
import Testing

@testable import ConvoyCLI

/// A command line that must be refused with exit status 64, and exactly what it must print.
struct UsageCase: Sendable, CustomTestStringConvertible {
    var arguments: [String]
    /// The message after `convoy: error: `.
    var message: String
    /// The command whose help the hint points to, or nil for `convoy --help`.
    var command: String?

    init(_ arguments: [String], _ message: String, help command: String? = "fetch") {
        self.arguments = arguments
        self.message = message
        self.command = command
    }

    /// The whole standard error: the message, then the hint to the right help.
    var expectedError: String {
        "convoy: error: \(message)\nRun 'convoy \(command.map { $0 + " " } ?? "")--help' for usage.\n"
    }

    var testDescription: String { arguments.isEmpty ? "(none)" : arguments.joined(separator: " ") }
}

@Suite(.timeLimit(.minutes(1))) struct CommandLineTests {
    static let loopback = "http://127.0.0.1:1"
    static let local = ["fetch", "--api-base", loopback]

    static let usageCases: [UsageCase] = [
        UsageCase(local + ["--bogus"], "unknown option --bogus"),
        UsageCase(
            ["fetch", "--api-base", "http://api.example.com"],
            "--api-base must use https, not 'http://api.example.com' (plain http is allowed only on "
                + "127.0.0.1/localhost)"),
        UsageCase(
            ["fetch", "--api-base", "ftp://127.0.0.1"],
            "--api-base must use https, not 'ftp://127.0.0.1' (plain http is allowed only on 127.0.0.1/localhost)"),
        UsageCase(
            ["fetch", "--api-base", "not-a-url"],
            "--api-base must be a URL such as https://api.mypurecloud.com, not 'not-a-url'"),
        UsageCase(
            ["fetch", "--api-base", "https://api.mypurecloud.com"],
            "no credentials: set GENESYSCLOUD_OAUTHCLIENT_ID and GENESYSCLOUD_OAUTHCLIENT_SECRET "
                + "(or --credentials FILE), or GENESYSCLOUD_ACCESS_TOKEN"),
        UsageCase(["fetch", "--api-base"], "--api-base needs a value"),
        UsageCase(
            ["fetch"],
            "convoy fetch needs --region (or GENESYSCLOUD_REGION), e.g. --region eu-west-1, or --api-base URL"),
        UsageCase(
            ["fetch", "--region", "mars-1"],
            "unknown region 'mars-1'; valid regions: \(GenesysRegion.validNames)"),
        UsageCase(local + ["--concurrency", "0"], "--concurrency takes a whole number from 1 to 1024, not '0'"),
        UsageCase(local + ["--max-rate", "fast"], "--max-rate takes a number from 0.01 to 1000000.0, not 'fast'"),
        UsageCase(
            local + ["a.txt", "b.txt"], "convoy fetch takes one ids file (or '-'), got 2: 'a.txt' 'b.txt'"),
        UsageCase(local + ["--output", "a", "--output", "b"], "--output is given more than once"),
        UsageCase(local + ["--no-progress", "--no-progress"], "--no-progress is given more than once"),
        UsageCase(local + ["--no-progress=yes"], "--no-progress takes no value"),
        UsageCase(
            local + ["--login-base", "ftp://x"],
            "--login-base must use https, not 'ftp://x' (plain http is allowed only on 127.0.0.1/localhost)"),
        UsageCase(
            local + ["--interval", "yesterday/today"],
            "--interval takes START/END in ISO-8601 with start before end, e.g. "
                + "2026-01-01T00:00:00Z/2026-01-08T00:00:00Z, not 'yesterday/today'"),
        UsageCase(
            local + ["--division", "d"], "--media-type and --division filter --interval discovery; add --interval"),
        UsageCase(
            local + ["ids.txt", "--interval", "2026-01-01T00:00:00Z/2026-01-08T00:00:00Z"],
            "give one source of ids: an ids file, --from-export or --interval"),
        UsageCase(
            local + ["--shard", "3/2"], "--shard takes K/N with 1 ≤ K ≤ N (e.g. --shard 2/4) or auto/N, not '3/2'"),
        UsageCase(
            local + ["--include", "everything"],
            "unknown part 'everything' in --include; choose from conversation, analytics, recordingmetadata, messages"),
        UsageCase(
            ["demo", "--headers", "smoke-signals"],
            "--headers takes genesys, x-ratelimit, x-ratelimit-epoch, ietf or none, not 'smoke-signals'", help: "demo"),
        UsageCase(["demo", "extra"], "unexpected argument 'extra'", help: "demo"),
        UsageCase(["mock-server", "--bogus"], "unknown option --bogus", help: "mock-server"),
        UsageCase(
            ["mock-server", "--port", "99999"], "--port takes a whole number from 0 to 65535, not '99999'",
            help: "mock-server"),
        UsageCase(
            local + ["--output", "-", "--errors", "-"],
            "--errors must name a file: only the records (--output -) can stream"),
        UsageCase(
            local + ["--output", "a.ndjson", "--manifest", "a.ndjson"],
            "--output, --errors and --manifest must name three different files"),
        UsageCase(
            ["verify"], "convoy verify takes one output file, e.g. convoy verify conversations.ndjson", help: "verify"),
        UsageCase(["frobnicate"], "unknown command 'frobnicate'", help: nil),
    ]

    @Test(arguments: usageCases)
    func usageErrorsExit64WithTheirMessage(_ usage: UsageCase) async {
        let (status, console) = await convoy(usage.arguments)
        #expect(status == 64)
        #expect(console.capturedError == usage.expectedError)
        #expect(console.capturedOutput.isEmpty, "usage errors go to standard error only")
    }

    @Test func noArgumentsPrintsTheHelpToStandardErrorAndExits64() async {
        let (status, console) = await convoy([])
        let (helpStatus, help) = await convoy(["help"])
        #expect(status == 64 && helpStatus == 0)
        #expect(
            console.capturedError.prefix(while: { $0 != "\n" })
                == "convoy: pull the full metadata of every conversation out of a rate-limited contact-center API.")
        #expect(console.capturedError == help.capturedOutput)
        #expect(console.capturedOutput.isEmpty)
    }

    @Test func bothOptionSpellingsWork() async throws {
        let scratch = try TemporaryDirectory()
        let (status, console) = await convoy(
            ["fetch", "/nonexistent/ids.txt", "--api-base=http://127.0.0.1:1", "--output=\(scratch.file("o"))"])
        #expect(status == 1, "past parsing, the missing file is the error")
        #expect(console.capturedError.contains("cannot open /nonexistent/ids.txt"))
    }

    @Test(arguments: ["fetch", "loadtest", "verify", "report", "demo", "mock-server", "mock-export", "completion"])
    func everyCommandHasHelp(_ command: String) async {
        let (status, console) = await convoy([command, "--help"])
        #expect(status == 0)
        #expect(console.capturedOutput.contains("USAGE: convoy \(command)"))
        let (helpStatus, helpConsole) = await convoy(["help", command])
        #expect(helpStatus == 0 && helpConsole.capturedOutput == console.capturedOutput)
    }

    @Test func secretsAreRedactedFromTheRecordedCommandLine() {
        let redacted = Arguments.redacting([
            "fetch", "ids.txt", "--token", "t0ken", "--client-secret=s3cret", "--api-base",
            "https://user:pa55@api.example.com/", "--output", "-", "--token",
        ])
        #expect(
            redacted == [
                "fetch", "ids.txt", "--token", "<redacted>", "--client-secret=<redacted>", "--api-base",
                "https://api.example.com/", "--output", "-", "--token",
            ])
    }

    @Test func aStreamNamesItsOtherFilesAfterTheStartTime() throws {
        let start = Date(timeIntervalSince1970: 1_795_000_000.5)
        let command = try FetchCommand(
            arguments: ["--api-base", Self.loopback, "--output", "-"], environment: [:], now: start)
        #expect(command.errorsPath == "convoy-20261118T110640Z.errors.ndjson")
        #expect(command.manifestPath == "convoy-20261118T110640Z.manifest.ndjson")
        let file = try FetchCommand(
            arguments: ["--api-base", Self.loopback, "--output", "x/out.ndjson"], environment: [:])
        #expect(file.errorsPath == "x/out.errors.ndjson" && file.manifestPath == "x/out.manifest.ndjson")
    }
}
