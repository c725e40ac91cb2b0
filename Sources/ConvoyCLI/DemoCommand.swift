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

        The whole path of a legal hold, offline: starts the embedded mock Genesys Cloud API on
        127.0.0.1 with Genesys's limit of 300 requests per window, played 20 times faster (a 3 s
        window instead of 60 s), and then
          1. writes a stripped export of a few thousand conversations (WhatsApp-style transcripts and
             voice recording exports, without legal_hold, divisions, times, ...) to convoy-demo/export;
          2. fetches every conversation in it (fetch --from-export) into convoy-demo/conversations.ndjson;
             about 1 % of the ids do not exist and land in convoy-demo/errors.ndjson; the summary
             shows the limit Convoy learned from the headers and how few 429s it took;
          3. enriches the export (convoy enrich) into convoy-demo/enriched: a sidecar per export file
             and the field-recovery report.

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
        let exportPath = (directory as NSString).appendingPathComponent("export")
        let enrichedPath = (directory as NSString).appendingPathComponent("enriched")
        if !resume {
            for path in [outputPath, errorsPath, manifestPath, exportPath, enrichedPath]
            where FileManager.default.fileExists(atPath: path) {
                try FileManager.default.removeItem(atPath: path)
            }
        }
        let ids = MockConversationStore.sampleIDs(count: count)
        let files = try MockExport.write(ids: ids, files: max(1, count / 75), to: exportPath)
        let server = try MockAPIServer.start(mock)
        defer { server.shutdown() }
        console.error("convoy demo: mock Genesys API at \(server.baseURL) (\(MockOptions.describe(mock)))")
        console.error(
            "convoy demo: 1. wrote a stripped export of \(count) conversations in \(files.count) files to \(exportPath)"
        )
        console.error(
            "convoy demo: 2. fetch --from-export \(exportPath): \(count) conversations, \(concurrency) in flight at most"
        )
        var configuration = FetchConfiguration(apiBase: server.baseURL)
        configuration.concurrency = concurrency
        let runner = FetchRunner(
            configuration: configuration, credentials: StaticCredentials(token: nil), outputPath: outputPath,
            errorsPath: errorsPath, manifestPath: manifestPath,
            custody: .init(
                command: commandLine, oauthClientId: nil,
                input: { [exportPath] in
                    RunManifest.Input(
                        source: "export:\(exportPath)", records: $0.inputRecords, complete: $0.inputComplete)
                }),
            console: console, showProgress: showProgress)
        let summary = try await runner.run(ids: ExportScanner(path: exportPath))

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
        if summary.interrupted {
            console.error("convoy demo: interrupted: the steps after the fetch did not run")
            return 130
        }

        console.error("convoy demo: 3. enrich \(exportPath) --records \(outputPath) --out \(enrichedPath)")
        var enrich = Enricher.Configuration(
            exportPath: exportPath, recordsPaths: [outputPath], errorsPaths: [errorsPath], outputDirectory: enrichedPath
        )
        enrich.command = ["convoy", "enrich", exportPath, "--records", outputPath, "--out", enrichedPath]
        enrich.tool = "convoy \(FetchRunner.version)"
        let enriched = try Enricher(configuration: enrich).run()
        EnrichCommand.printSummary(enriched, directory: enrichedPath, console: console)
        console.error(
            "convoy demo: try  jq -c '{id, legal_hold: [.conversation.participants[].attributes.legal_hold][0]}' "
                + "\(outputPath) | head")
        console.error("convoy demo: done")
        return 0
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
