import Convoy
import ConvoyMock
import Foundation

/// `convoy demo`: the whole stack against the embedded mock API, offline, in under a minute.
struct DemoCommand {
    static let defaults = MockServerConfiguration(
        rateLimit: .fixedWindow(limit: 300, window: .seconds(3)), headerFamily: .genesys,
        latency: .fixed(.milliseconds(80)), missingPerMille: 10)

    static let help = """
        USAGE: convoy demo [options]

        Starts the embedded mock Genesys Cloud API on 127.0.0.1 with Genesys's limit of 300 requests
        per window, played 20 times faster (a 3 s window instead of 60 s), and fetches a few thousand
        conversations through the whole stack into convoy-demo/conversations.ndjson. About 1 % of the
        ids do not exist and land in convoy-demo/errors.ndjson. The summary shows the limit Convoy
        learned from the headers and how few 429s it took.

        OPTIONS:
          --ids N               conversations to fetch (default 3000)
          --out-dir DIR         where the files go (default convoy-demo)
          --resume              keep the files of an earlier demo and resume it (default: start afresh)
          --concurrency N       requests in flight at most (default 16)
          --no-progress         no live progress line
        \(MockOptions.help
            .replacingOccurrences(of: "%LIMIT%", with: "300")
            .replacingOccurrences(of: "%WINDOW%", with: "3")
            .replacingOccurrences(of: "%LATENCY%", with: "80")
            .replacingOccurrences(of: "%MISSING%", with: "10"))
          -h, --help            show this help

        EXAMPLES:
          convoy demo
          convoy demo --headers none          # no budget headers: only 429 + Retry-After
          convoy demo --limit 100 --window 1 --error-rate 0.02 --ids 5000
        """

    var count: Int
    var directory: String
    var resume: Bool
    var concurrency: Int
    var showProgress: Bool
    var mock: MockServerConfiguration
    var commandLine: [String]

    init(arguments: [String]) throws {
        commandLine = ["convoy", "demo"] + Arguments.redacting(arguments)
        var arguments = Arguments(arguments)
        count = try arguments.integer("ids", in: 1...10_000_000) ?? 3000
        directory = try arguments.value("out-dir") ?? "convoy-demo"
        resume = try arguments.flag("resume")
        concurrency = try arguments.integer("concurrency", in: 1...1024) ?? 16
        showProgress = try !arguments.flag("no-progress")
        mock = try MockOptions(&arguments, defaults: Self.defaults).configuration
        try arguments.finish()
    }

    func run(console: Console) async throws -> Int32 {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let outputPath = (directory as NSString).appendingPathComponent("conversations.ndjson")
        let errorsPath = (directory as NSString).appendingPathComponent("errors.ndjson")
        let manifestPath = (directory as NSString).appendingPathComponent("conversations.manifest.ndjson")
        if !resume {
            for path in [outputPath, errorsPath, manifestPath] where FileManager.default.fileExists(atPath: path) {
                try FileManager.default.removeItem(atPath: path)
            }
        }
        let server = try MockAPIServer.start(mock)
        defer { server.shutdown() }
        console.error("convoy demo: mock Genesys API at \(server.baseURL) (\(MockOptions.describe(mock)))")
        console.error("convoy demo: fetching \(count) conversations with \(concurrency) in flight at most")

        let ids = MockConversationStore.sampleIDs(count: count)
        let lines = ids.enumerated().map { (line: $0.offset + 1, item: InputLine(parsing: Substring($0.element))) }
        var configuration = FetchConfiguration(apiBase: server.baseURL)
        configuration.concurrency = concurrency
        let runner = FetchRunner(
            configuration: configuration, credentials: StaticCredentials(token: nil), outputPath: outputPath,
            errorsPath: errorsPath, manifestPath: manifestPath,
            custody: .init(
                command: commandLine, oauthClientId: nil,
                input: { [count] in
                    RunManifest.Input(
                        source: "demo:\(count) sample ids", records: $0.inputRecords, complete: $0.inputComplete)
                }),
            console: console, showProgress: showProgress)
        let summary = try await runner.run(ids: AsyncLines(lines: lines))

        let counters = server.counters()
        let share = counters.requests > 0 ? 100 * Double(counters.tooManyRequests) / Double(counters.requests) : 0
        console.error(
            "convoy demo: the mock answered \(counters.requests) requests, \(counters.tooManyRequests) of them 429 "
                + "(\(SummaryReport.format(share, digits: 2)) %)")
        if case .fixedWindow(let limit, let window)? = mock.rateLimit, summary.wallSeconds > 0 {
            let allowed =
                Double(limit) / window.seconds
            let answered = Double(summary.fetched + summary.failed - summary.invalid)
            console.error(
                "convoy demo: used \(SummaryReport.format(100 * answered / (allowed * summary.wallSeconds), digits: 1)) % "
                    + "of the budget (\(SummaryReport.format(allowed, digits: 1)) requests/s allowed)")
        }
        console.error("convoy demo: try  jq -c '{id, state: .conversation.recordingState}' \(outputPath) | head")
        return summary.interrupted ? 130 : 0
    }
}

/// An in-memory id list as the engine's input sequence.
struct AsyncLines: AsyncSequence, Sendable {
    typealias Element = IDReader.Element
    let lines: [IDReader.Element]

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: IndexingIterator<[IDReader.Element]>
        mutating func next() async -> IDReader.Element? { base.next() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: lines.makeIterator()) }
}
