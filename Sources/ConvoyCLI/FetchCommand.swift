import Convoy
import ConvoyLoad
import Foundation
import Glibc
import Synchronization

/// `convoy fetch`: ids in, NDJSON out.
struct FetchCommand {
    static let help = """
        USAGE: convoy fetch [IDS_FILE | - | --from-export PATH] --region REGION [options]

        Fetches GET /api/v2/conversations/{id} for every id, at the server's rate limit, and writes
        one NDJSON record per conversation. Ids come from IDS_FILE, or standard input when it is
        '-' or absent: one UUID per line (blank lines and '#' comments skipped), or JSON lines with a
        "conversationId" or "id" field.

        A re-run with the same output files resumes: ids already written are skipped, a torn last
        line from a crash is cut, and retryable failures are tried again.

        CREDENTIALS (the first that is set wins):
          --token TOKEN / GENESYSCLOUD_ACCESS_TOKEN      a ready bearer token (prefer the variable:
                                                         the process list shows arguments to everyone)
          --credentials FILE                             OAuth client id and secret: JSON {"clientId",
                                                         "clientSecret"} or KEY=VALUE lines as below
          GENESYSCLOUD_OAUTHCLIENT_ID / _SECRET          OAuth client credentials; tokens are renewed
                                                         before they expire and once after a 401

        OPTIONS:
          --region REGION       the org's region, by name (eu-west-1) or host (mypurecloud.ie); also
                                GENESYSCLOUD_REGION. Sets https://api.<host> and https://login.<host>
          --api-base URL        API root instead of the region's (https only, except loopback: the mock)
          --login-base URL      OAuth server instead of the region's (default with --api-base: the same URL)
          --include PARTS       what to fetch per conversation, comma-separated (default conversation):
                                conversation, analytics, recordingmetadata, messages (with message
                                bodies, 1,000 per bulk request); all parts go into one record
          --analytics-batch N   analytics of up to N conversations per request (default 100; 1 asks
                                per id). A batch refused as too large (400, 413) halves N for the run
          --from-export PATH    read the ids from a recording export: each conversation_id= folder of
                                Genesys's S3 layout (recordings skipped unread), and every
                                conversationId in its JSON/NDJSON files
          --interval START/END  find the ids of the conversations that started in the interval, e.g.
                                2026-01-01T00:00:00Z/2026-01-08T00:00:00Z: by the analytics jobs API up
                                to its data availability cut-off, by the query API after it (a job
                                alone would miss the newest). A job returns every conversation active
                                in its interval, a query whole UTC days: Convoy keeps those that started
                                in the interval, each once, and counts the rest. They are fetched while
                                discovery goes on, and a re-run resumes it (<output>.discovered and
                                <output>.discovery.json keep its state). The summary and the manifest
                                say how it was covered
          --query-cap N         with --interval: results the query API pages through at most (default
                                100000, Genesys's cap); a slice with more is split at a UTC midnight
                                until each fits
          --media-type TYPE     with --interval: only voice, message, … conversations
          --division ID         with --interval: only conversations in this division
          --shard K/N           fetch only shard K of N (a stable hash of the id), to split a job
                                across N machines, each with its own OAuth client
          --shard auto/N        K from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) or
                                AWS_BATCH_JOB_ARRAY_INDEX (an AWS Batch array job), plus one. With
                                --shard, any argument may name {shard} (K) or {index} (K − 1):
                                --credentials /secrets/client-{index}.json --output /data/part-{shard}.ndjson
          --output FILE         NDJSON output (default: conversations.ndjson); '-' streams the records
                                to standard output (summary and progress stay on standard error), e.g.
                                convoy fetch ids.txt --output - | aws s3 cp - s3://bucket/conversations.ndjson
          --errors FILE         NDJSON errors (default: the output name with .errors.ndjson; with
                                --output -: convoy-<start time>.errors.ndjson here)
          --manifest FILE       the run manifest, one line appended per run (default: the output name
                                with .manifest.ndjson; with --output -: convoy-<start time>.manifest.ndjson).
                                'convoy verify OUTPUT' checks the output against it
          --check-output        on a resume, read the whole output and check that it begins with what
                                the manifest's last line recorded (as verify does). By default the run
                                goes on hashing from the SHA-256 state that line saved and reads only
                                what follows it: a restart costs what was appended, not the whole file
          --concurrency N       requests in flight at most (default 16)
          --max-attempts N      requests per id before it counts as failed (default 8)
          --max-rate R          never exceed R requests/s, whatever the server allows
          --max-pause D         the longest the server may pause every request with one Retry-After
                                or reset (default 15m); a longer one is capped, and every pause of
                                10 s or more is said on standard error with its length
        \(TransportOptions.help)
          --initial-rate R      requests/s before the server's headers are known (default 5)
          --no-progress         no progress: neither the live line on a terminal nor the plain one
          --progress-interval D off a terminal, print a plain progress line every D (default 60s; 0
                                for none), so kubectl logs and CI logs show where a long job stands.
                                With an ids file both show a bar, the percentage and an ETA from the
                                learned limit and the requests left
          --checkpoint-interval D  a checkpoint line in the manifest every D while the run goes on
                                (default 60s; 0 for none): a run killed with kill -9 still vouches for
                                what it wrote up to its last checkpoint
          -h, --help            show this help

        RECORDS:
          output: {"id":…,"fetchedAt":…,"attempts":…,"provenance":{"conversation":{"status":200,
                  "correlationId":…}},"conversation":{…the server's document, verbatim…}}
          errors: {"id":…,"status":…,"correlationId":…,"reason":…,"attempts":…,"retryable":…,"failedAt":…}
          manifest: one JSON line per run: command (secrets redacted), API base, OAuth client id,
                  times, the input's SHA-256, the output's and errors file's SHA-256, size and lines,
                  counts, the limit learned, and the SHA-256 of the line before (a hash chain)

        EXIT STATUS: 0 all ids recorded, 1 fatal error (or the reader of --output - went away),
        2 some ids failed, 64 usage error, 130 interrupted (re-run to resume).

        EXAMPLE:
          export GENESYSCLOUD_OAUTHCLIENT_ID=… GENESYSCLOUD_OAUTHCLIENT_SECRET=… GENESYSCLOUD_REGION=eu-west-1
          convoy fetch ids.txt --output conversations.ndjson
        """

    /// How requests authenticate.
    enum Authentication {
        case none
        case token(String)
        case oauth(ClientCredentials, loginBase: URL)

        /// The secrets these credentials hold, for the console to hide.
        var secrets: [String] {
            switch self {
            case .none: return []
            case .token(let token): return [token]
            case .oauth(let credentials, _): return [credentials.clientSecret]
            }
        }

        /// The credential provider, and for OAuth the client behind it, which has fetched its
        /// first token already: wrong credentials fail here, before any other work.
        func provider() async throws -> (
            provider: any CredentialProvider, oauth: OAuthClientCredentials<ContinuousClock>?
        ) {
            switch self {
            case .none:
                return (StaticCredentials(token: nil), nil)
            case .token(let token):
                return (StaticCredentials(token: token), nil)
            case .oauth(let credentials, let loginBase):
                let oauth = OAuthClientCredentials(
                    credentials: credentials, loginBase: loginBase,
                    transport: DefaultTransport(maxConnectionsPerHost: 2), clock: ContinuousClock())
                _ = try await oauth.accessToken()
                return (oauth, oauth)
            }
        }
    }

    var input: String?
    var exportPath: String?
    var interval: IntervalDiscovery<ContinuousClock>.Query?
    var apiBase: URL
    var authentication: Authentication
    var outputPath: String
    var errorsPath: String
    var manifestPath: String
    /// Where `--interval` keeps its journal and checkpoint: beside the output, or for a stream
    /// beside the files named after the start time.
    var discoveryState: String
    /// Results the analytics query pages through at most (`--query-cap`, Genesys's 100,000).
    var queryCap = 100_000
    /// How discovery covered the interval, for the summary and the manifest.
    let coverage = IntervalDiscovery<ContinuousClock>.Coverage()
    var configuration: FetchConfiguration
    var showProgress: Bool
    /// Read the whole output before a resume, not only what follows the manifest's last midstate.
    var checksWholeOutput = false
    /// Off a terminal, a plain progress line this often; nil for none.
    var progressInterval: Duration? = .seconds(60)
    /// A checkpoint line in the manifest this often while the run goes on; nil for none.
    var checkpointInterval: Duration? = .seconds(60)
    /// The command line as the manifest records it, secrets redacted.
    var commandLine: [String]

    init(arguments: [String], environment: [String: String], now: Date = Date()) throws {
        commandLine = ["convoy", "fetch"] + Arguments.redacting(arguments)
        var arguments = Arguments(try Self.fillingShard(arguments, environment: environment))
        let region = try Self.region(&arguments, environment: environment)
        let explicitBase = try arguments.value("api-base")
        if let explicitBase {
            apiBase = try Self.validateBase(explicitBase, option: "api-base")
        } else if let region {
            apiBase = region.apiBase
        } else {
            throw ConvoyError.usage(
                "convoy fetch needs --region (or GENESYSCLOUD_REGION), e.g. --region eu-west-1, or --api-base URL")
        }
        // The login server: as given; else the same URL as an explicit API base (the mock serves
        // both, as may a proxy); else the region's.
        let loginBase =
            try (try arguments.value("login-base")).map { try Self.validateBase($0, option: "login-base") }
            ?? (explicitBase == nil ? region?.loginBase : nil) ?? apiBase
        try Self.refuseClearTextProxy(
            for: [apiBase, loginBase], environment: environment,
            remedy: "add the host to no_proxy, or unset the proxy for this command")
        authentication = try Self.authentication(&arguments, environment: environment, loginBase: loginBase)
        outputPath = try arguments.value("output") ?? "conversations.ndjson"
        // A stream has no name to put the other files beside: they are named after the start time.
        let base = outputPath == "-" ? "convoy-\(Self.compactTimestamp(now)).ndjson" : outputPath
        errorsPath = try arguments.value("errors") ?? Self.defaultErrorsPath(for: base)
        manifestPath = try arguments.value("manifest") ?? ManifestLog.defaultPath(for: base)
        discoveryState = base
        for (option, path) in [("errors", errorsPath), ("manifest", manifestPath)] where path == "-" {
            throw ConvoyError.usage("--\(option) must name a file: only the records (--output -) can stream")
        }
        guard Set([outputPath, errorsPath, manifestPath]).count == 3 else {
            throw ConvoyError.usage("--output, --errors and --manifest must name three different files")
        }
        exportPath = try arguments.value("from-export")
        let mediaType = try arguments.value("media-type")
        let division = try arguments.value("division")
        if let text = try arguments.value("interval") {
            let query = IntervalDiscovery<ContinuousClock>.Query(
                interval: text, mediaType: mediaType, divisionID: division)
            try query.validate()
            interval = query
            queryCap = try arguments.integer("query-cap", in: 100...100_000_000) ?? queryCap
        } else if mediaType != nil || division != nil {
            throw ConvoyError.usage("--media-type and --division filter --interval discovery; add --interval")
        }
        configuration = FetchConfiguration(apiBase: apiBase)
        configuration.concurrency = try arguments.integer("concurrency", in: 1...1024) ?? configuration.concurrency
        configuration.maxAttempts = try arguments.integer("max-attempts", in: 1...100) ?? configuration.maxAttempts
        try TransportOptions.parse(&arguments, into: &configuration.transportLimits)
        if let text = try arguments.value("max-pause") {
            guard let seconds = LoadSchedule.parseDuration(text), seconds >= 1 else {
                throw ConvoyError.usage("--max-pause takes a duration of at least 1s such as 15m or 90s, not '\(text)'")
            }
            configuration.limiter.maximumPause = .milliseconds(Int64(seconds * 1000))
        }
        configuration.limiter.maximumRate = try arguments.number("max-rate", in: 0.01...1_000_000)
        configuration.limiter.initialRate =
            try arguments.number("initial-rate", in: 0.01...1_000_000) ?? configuration.limiter.initialRate
        if let maximum = configuration.limiter.maximumRate {
            configuration.limiter.initialRate = min(configuration.limiter.initialRate, maximum)
        }
        if let include = try arguments.value("include") {
            configuration.parts = try ConversationPart.parseList(include)
        }
        configuration.analyticsBatchSize =
            try arguments.integer("analytics-batch", in: 1...1000) ?? configuration.analyticsBatchSize
        if let text = try arguments.value("shard") {
            configuration.shard = try Shard.resolve(text, environment: environment)
        }
        showProgress = try !arguments.flag("no-progress")
        checksWholeOutput = try arguments.flag("check-output")
        if let text = try arguments.value("progress-interval") {
            guard let seconds = LoadSchedule.parseDuration(text), seconds >= 0 else {
                throw ConvoyError.usage("--progress-interval takes a duration such as 60s or 5m, not '\(text)'")
            }
            progressInterval = seconds > 0 ? .milliseconds(Int64(seconds * 1000)) : nil
        }
        if let text = try arguments.value("checkpoint-interval") {
            guard let seconds = LoadSchedule.parseDuration(text), seconds >= 0 else {
                throw ConvoyError.usage("--checkpoint-interval takes a duration such as 60s or 5m, not '\(text)'")
            }
            checkpointInterval = seconds > 0 ? .milliseconds(Int64(seconds * 1000)) : nil
        }
        let positionals = arguments.takePositionals()
        guard positionals.count <= 1 else {
            throw ConvoyError.usage(
                "convoy fetch takes one ids file (or '-'), got \(positionals.count): "
                    + positionals.map { "'\($0)'" }.joined(separator: " "))
        }
        input = positionals.first
        try arguments.finish()
        if [input != nil, exportPath != nil, interval != nil].filter({ $0 }).count > 1 {
            throw ConvoyError.usage("give one source of ids: an ids file, --from-export or --interval")
        }
        if case .none = authentication, !Self.isLoopback(apiBase) {
            throw ConvoyError.usage(
                "no credentials: set \(ClientCredentials.idVariable) and \(ClientCredentials.secretVariable) "
                    + "(or --credentials FILE), or GENESYSCLOUD_ACCESS_TOKEN")
        }
    }

    func run(console: Console) async throws -> Int32 {
        // Check the input first: a typo in a file name should not cost a login round trip.
        var exportFiles: [String] = []
        if let exportPath { exportFiles = try ExportScanner(path: exportPath).files() }
        if let input, input != "-" { try IDReader(path: input).validate() }
        if interval == nil, exportPath == nil, input == nil || input == "-", isatty(STDIN_FILENO) == 1 {
            console.error("convoy: reading ids from standard input (one per line; Ctrl-D ends)")
        }
        // And the outputs: a folder that cannot take them is said before any request, the login's too.
        for (option, path) in [("--output", outputPath), ("--errors", errorsPath), ("--manifest", manifestPath)] {
            try OutputPathCheck.check(path, option: option)
        }
        if outputPath == "-" {
            // A reader that goes away must surface as EPIPE on write, not kill the process unannounced.
            signal(SIGPIPE, SIG_IGN)
        }
        // Fail on wrong credentials before touching any file.
        let (credentials, oauth) = try await authentication.provider()
        let tokenRequests = oauth.map { oauth in { @Sendable in oauth.tokenRequests } }
        var clientID: String?
        if case .oauth(let clientCredentials, _) = authentication { clientID = clientCredentials.clientID }
        let stdinTally = InputTally()
        let (inputRecord, inputLines) = try describeInput(exportFiles: exportFiles, stdinTally: stdinTally)
        let runner = FetchRunner(
            configuration: configuration, credentials: credentials, outputPath: outputPath,
            errorsPath: errorsPath, manifestPath: manifestPath,
            custody: .init(command: commandLine, oauthClientId: clientID, input: inputRecord), console: console,
            showProgress: showProgress, inputLines: inputLines, progressInterval: progressInterval,
            checksWholeOutput: checksWholeOutput, checkpointInterval: checkpointInterval)
        let summary: FetchSummary
        if let interval {
            let apiBase = configuration.apiBase
            let stateFile = discoveryState
            let (coverage, queryCap) = (coverage, queryCap)
            summary = try await runner.run { sender in
                IntervalDiscovery(
                    query: interval, apiBase: apiBase, sender: sender, clock: ContinuousClock(), stateFile: stateFile,
                    queryCap: queryCap, coverage: coverage)
            }
            if !coverage.description.isEmpty { console.error("  interval  \(coverage.description)") }
        } else if let exportPath {
            summary = try await runner.run(ids: ExportScanner(path: exportPath))
        } else if let input, input != "-" {
            summary = try await runner.run(ids: IDReader(path: input))
        } else {
            summary = try await runner.run(
                ids: IDReader.standardInput { bytes in stdinTally.state.withLock { $0.add(bytes) } })
        }
        if let tokenRequests {
            console.error("  tokens    \(tokenRequests()) token requests (OAuth client credentials)")
        }
        console.error(SummaryReport.ending(summary, errorsPath: errorsPath))
        if summary.interrupted { return 130 }
        return summary.failed > 0 ? 2 : 0
    }

    /// How the manifest describes the input, given the run's summary: a file is fingerprinted now
    /// (as `sha256sum` would), standard input as it is read, an export file by file. Also the
    /// input's lines when they are known before the run (an ids file): the id table is sized from
    /// them and the progress line counts down to them.
    private func describeInput(
        exportFiles: [String], stdinTally: InputTally
    ) throws -> (@Sendable (FetchSummary) -> RunManifest.Input, lines: Int?) {
        if let interval {
            return (
                {
                    RunManifest.Input(
                        source: "interval:\(interval.interval)", records: $0.inputRecords, complete: $0.inputComplete,
                        coverage: coverage.description.isEmpty ? nil : coverage.description)
                }, nil
            )
        }
        if let exportPath {
            let files = try exportFiles.map {
                RunManifest.ExportFile(path: $0, fingerprint: try FileFingerprint.measure(path: $0).whole)
            }
            return (
                {
                    RunManifest.Input(
                        source: "export:\(exportPath)", files: files, records: $0.inputRecords,
                        complete: $0.inputComplete)
                }, nil
            )
        }
        if let input, input != "-" {
            // Hashed beside the run (a 10 M-line input is 370 MB); the lines are counted now.
            let fingerprint = BackgroundValue(name: "convoy-input-hash") {
                try FileFingerprint.measure(path: input).whole
            }
            let lines = try NDJSONFile.countLines(atPath: input)
            return (
                {
                    // A hash that could not be taken is left out, never written as another's.
                    let fingerprint = try? fingerprint.value
                    return RunManifest.Input(
                        source: input, fingerprint: fingerprint, records: $0.inputRecords,
                        complete: $0.inputComplete && fingerprint != nil)
                }, lines
            )
        }
        return (
            { summary in
                RunManifest.Input(
                    source: "-", fingerprint: stdinTally.state.withLock { $0.fingerprint },
                    records: summary.inputRecords, complete: summary.inputComplete)
            }, nil
        )
    }

    /// `--region`, else `GENESYSCLOUD_REGION`, by name or host; nil when neither is set.
    static func region(_ arguments: inout Arguments, environment: [String: String]) throws -> GenesysRegion? {
        try (try arguments.value("region") ?? environment["GENESYSCLOUD_REGION"]).map { name in
            guard let region = GenesysRegion(name) else {
                let names = GenesysRegion.all.flatMap { [$0.name, $0.host] }
                throw ConvoyError.usage(
                    "unknown region '\(name)'\(Suggestion.hint(for: name.lowercased(), in: names)); "
                        + "valid regions: \(GenesysRegion.validNames)")
            }
            return region
        }
    }

    /// The first credentials given: `--token` or `GENESYSCLOUD_ACCESS_TOKEN`, then `--credentials
    /// FILE`, then the OAuth client variables; `.none` without any. OAuth needs `loginBase`.
    static func authentication(
        _ arguments: inout Arguments, environment: [String: String], loginBase: URL?
    ) throws -> Authentication {
        let token = try arguments.value("token") ?? environment["GENESYSCLOUD_ACCESS_TOKEN"]
        let credentialsFile = try arguments.value("credentials")
        if let token, !token.isEmpty { return .token(token) }
        let credentials =
            try credentialsFile.map(ClientCredentials.fromFile) ?? ClientCredentials.fromEnvironment(environment)
        guard let credentials else { return .none }
        guard let loginBase else {
            throw ConvoyError.usage("OAuth client credentials need a login server: give --region or --login-base")
        }
        return .oauth(credentials, loginBase: loginBase)
    }

    /// `https://…` anywhere, `http://…` on loopback only: a token must never cross a network in clear.
    static func validateBase(_ text: String, option: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), url.host != nil else {
            throw ConvoyError.usage("--\(option) must be a URL such as https://api.mypurecloud.com, not '\(text)'")
        }
        switch scheme {
        case "https":
            return url
        case "http" where isLoopback(url):
            return url
        default:
            throw ConvoyError.usage(
                "--\(option) must use https, not '\(text)' (plain http is allowed only on 127.0.0.1/localhost)")
        }
    }

    /// True for a literal loopback host (see ``PlainHTTPPolicy``): never a name that begins with `127.`.
    static func isLoopback(_ url: URL) -> Bool { PlainHTTPPolicy.isLoopback(url) }

    /// Refuses plain http that a proxy of `environment` would carry, and see in clear.
    static func refuseClearTextProxy(for urls: [URL], environment: [String: String], remedy: String) throws {
        for url in urls {
            if let proxy = PlainHTTPPolicy.clearTextProxy(for: url, environment: environment) {
                throw ConvoyError.usage(
                    "plain http to \(url.host ?? "the server") would go through the proxy \(proxy) (http_proxy or "
                        + "all_proxy), which would see the token in clear: \(remedy)")
            }
        }
    }

    /// `20261125T023345Z`: a start time fit for a file name.
    static func compactTimestamp(_ date: Date) -> String {
        RecordEncoder.timestamp(date).filter { $0 != "-" && $0 != ":" }.prefix(15) + "Z"
    }

    /// `arguments` with `{shard}` and `{index}` filled in from `--shard` (see ``Shard/fill(_:)``).
    /// - Throws: a usage error for a placeholder without `--shard`, or a `--shard` that does not resolve.
    static func fillingShard(_ arguments: [String], environment: [String: String]) throws -> [String] {
        let placeholders = ["{shard}", "{index}"]
        var shardText: String?
        for (position, argument) in arguments.enumerated() {
            if argument == "--shard", position + 1 < arguments.count { shardText = arguments[position + 1] }
            if argument.hasPrefix("--shard=") { shardText = String(argument.dropFirst("--shard=".count)) }
        }
        guard let shardText else {
            if let used = arguments.first(where: { argument in placeholders.contains { argument.contains($0) } }) {
                throw ConvoyError.usage("'\(used)' names {shard} or {index}, which only --shard fills in")
            }
            return arguments
        }
        let shard = try Shard.resolve(shardText, environment: environment)
        return arguments.map(shard.fill)
    }

    /// `out.ndjson` → `out.errors.ndjson`.
    static func defaultErrorsPath(for output: String) -> String {
        if output.hasSuffix(".ndjson") { return String(output.dropLast(".ndjson".count)) + ".errors.ndjson" }
        if output.hasSuffix(".jsonl") { return String(output.dropLast(".jsonl".count)) + ".errors.jsonl" }
        return output + ".errors"
    }
}

/// The bytes of standard input as the reading thread sees them, for the manifest.
private final class InputTally: Sendable {
    let state = Mutex(FileFingerprint.Tally())
}
