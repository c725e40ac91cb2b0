import Convoy
import Foundation

/// `convoy fetch`: ids in, NDJSON out.
struct FetchCommand {
    static let help = """
        USAGE: convoy fetch [IDS_FILE | -] --api-base URL [options]

        Fetches GET /api/v2/conversations/{id} for every id, at the server's rate limit, and writes
        one NDJSON record per conversation. Ids come from IDS_FILE, or standard input when it is
        '-' or absent: one UUID per line (blank lines and '#' comments skipped), or JSON lines with a
        "conversationId" or "id" field.

        A re-run with the same output files resumes: ids already written are skipped, a torn last
        line from a crash is cut, and retryable failures are tried again.

        OPTIONS:
          --api-base URL        API root, e.g. https://api.mypurecloud.ie (https only, except loopback)
          --token TOKEN         bearer token; prefer the GENESYSCLOUD_ACCESS_TOKEN environment variable,
                                which other users of the machine cannot see in the process list
          --output FILE         NDJSON output (default: conversations.ndjson)
          --errors FILE         NDJSON errors (default: the output name with .errors.ndjson)
          --concurrency N       requests in flight at most (default 16)
          --max-attempts N      requests per id before it counts as failed (default 8)
          --max-rate R          never exceed R requests/s, whatever the server allows
          --initial-rate R      requests/s before the server's headers are known (default 5)
          --no-progress         no live progress line on a terminal
          -h, --help            show this help

        RECORDS:
          output: {"id":…,"fetchedAt":…,"attempts":…,"conversation":{…the server's document…}}
          errors: {"id":…,"status":…,"reason":…,"attempts":…,"retryable":…,"failedAt":…}

        EXIT STATUS: 0 all ids recorded, 1 fatal error, 2 some ids failed, 64 usage error,
        130 interrupted (re-run to resume).

        EXAMPLE:
          export GENESYSCLOUD_ACCESS_TOKEN=…
          convoy fetch ids.txt --api-base https://api.mypurecloud.ie --output conversations.ndjson
        """

    var input: String?
    var apiBase: URL
    var token: String?
    var outputPath: String
    var errorsPath: String
    var configuration: FetchConfiguration
    var showProgress: Bool

    init(arguments: [String], environment: [String: String]) throws {
        var arguments = Arguments(arguments)
        guard let base = try arguments.value("api-base") ?? environment["CONVOY_API_BASE"] else {
            throw ConvoyError.usage("convoy fetch needs --api-base URL (for example https://api.mypurecloud.com)")
        }
        apiBase = try Self.validateAPIBase(base)
        token = try arguments.value("token") ?? environment["GENESYSCLOUD_ACCESS_TOKEN"]
        outputPath = try arguments.value("output") ?? "conversations.ndjson"
        errorsPath = try arguments.value("errors") ?? Self.defaultErrorsPath(for: outputPath)
        configuration = FetchConfiguration(apiBase: apiBase)
        configuration.concurrency = try arguments.integer("concurrency", in: 1...1024) ?? configuration.concurrency
        configuration.maxAttempts = try arguments.integer("max-attempts", in: 1...100) ?? configuration.maxAttempts
        configuration.limiter.maximumRate = try arguments.number("max-rate", in: 0.01...1_000_000)
        configuration.limiter.initialRate =
            try arguments.number("initial-rate", in: 0.01...1_000_000) ?? configuration.limiter.initialRate
        if let maximum = configuration.limiter.maximumRate {
            configuration.limiter.initialRate = min(configuration.limiter.initialRate, maximum)
        }
        showProgress = !arguments.flag("no-progress")
        let positionals = arguments.takePositionals()
        guard positionals.count <= 1 else {
            throw ConvoyError.usage("convoy fetch takes one ids file (or '-'), got \(positionals.count)")
        }
        input = positionals.first
        try arguments.finish()
        if token == nil, !Self.isLoopback(apiBase) {
            throw ConvoyError.usage("no access token: set GENESYSCLOUD_ACCESS_TOKEN or pass --token")
        }
    }

    func run(console: Console) async throws -> Int32 {
        let reader: IDReader
        if let input, input != "-" {
            reader = IDReader(path: input)
            try reader.validate()
        } else {
            reader = IDReader.standardInput
        }
        let runner = FetchRunner(
            configuration: configuration, credentials: StaticCredentials(token: token), outputPath: outputPath,
            errorsPath: errorsPath, console: console, showProgress: showProgress)
        let summary = try await runner.run(ids: reader)
        if summary.interrupted { return 130 }
        return summary.failed > 0 ? 2 : 0
    }

    /// `https://…` anywhere, `http://…` on loopback only: a token must never cross a network in clear.
    static func validateAPIBase(_ text: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), url.host != nil else {
            throw ConvoyError.usage("--api-base must be a URL such as https://api.mypurecloud.com, not '\(text)'")
        }
        switch scheme {
        case "https":
            return url
        case "http" where isLoopback(url):
            return url
        default:
            throw ConvoyError.usage("--api-base must use https (plain http is allowed only on 127.0.0.1/localhost)")
        }
    }

    static func isLoopback(_ url: URL) -> Bool {
        guard let host = url.host?.lowercased() else { return false }
        return host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
    }

    /// `out.ndjson` → `out.errors.ndjson`.
    static func defaultErrorsPath(for output: String) -> String {
        if output.hasSuffix(".ndjson") { return String(output.dropLast(".ndjson".count)) + ".errors.ndjson" }
        if output.hasSuffix(".jsonl") { return String(output.dropLast(".jsonl".count)) + ".errors.jsonl" }
        return output + ".errors"
    }
}
