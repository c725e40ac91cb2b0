import Convoy
import ConvoyLoad
import Foundation
import Glibc

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `convoy loadtest`: drive load at a rate-limited API and say what its limiter is.
struct LoadTestCommand {
    static let help = """
        USAGE: convoy loadtest URL [options]

        Sends load at URL and reports what happened: status counts, latency percentiles, a
        per-second timeline, and with --find-limit what the rate limiter is (its kind, limit,
        window or rate, burst) and whether its headers tell the truth.

        TARGET:
          URL                   http(s) URL, or a path joined to --api-base / the --region's API; '{id}' is
                                replaced per request by the next id of --ids (cycled) or a random UUID
          --method M            HTTP method (default GET)
          --header 'N: V'       a request header (repeatable)
          --body TEXT           a request body (or --body-file FILE, '-' for standard input)
          --ids FILE            ids for '{id}', one per line ('-': standard input)
          --region, --api-base, --login-base, --token, --credentials, GENESYSCLOUD_* variables:
                                as for 'convoy fetch'; a token is sent as 'Authorization: Bearer …'
          --tokens FILE         with --find-limit: bearer tokens, one per line; right after the first 429
                                a second token is tried, to tell a limit per token from a shared one
          --insecure-http       allow plain http to a host other than loopback (an internal gateway);
                                without it http is refused there, because a token may travel

        LOAD (one model; a duration or --find-limit is required):
          --rate R --duration D open model: R requests/s (e.g. 100/s, 6000/m) whatever the answers do
          --stage D:R           open model, ramping to R over D (repeatable, k6-style), e.g.
                                --stage 30s:50/s --stage 1m:200/s --stage 30s:0/s (from --start-rate, default 0)
          --vus N --duration D  closed model: N users, each sending again when answered
          --find-limit          probe the limit: a burst from idle, a rate above the limit, a burst
                                across a window boundary (about 3 windows of load, --max-duration at most)
          --max-in-flight N     requests outstanding at most (default 1000); an open-model request due
                                while N are out is not sent and counts as dropped
          --max-duration D      --find-limit's cap on load (default 3m)
          --max-rate R          --find-limit's fastest rate (default 2000/s): its probe sends above the
                                limit on purpose, and this bounds what a server gets
        \(TransportOptions.help)

        OUTPUT:
          --threshold EXPR      fail (exit 99) unless EXPR holds (repeatable): p50, p90, p95, p99,
                                p99.9, max (ms or s), http_429_rate, http_req_failed (%), rate (/s),
                                dropped, limit (/s), e.g. 'p99<500ms' 'http_429_rate<1%' 'limit>=95/s'
          --summary-export F    the summary as JSON in k6's shape (metrics http_reqs, http_req_duration,
                                http_req_failed… with thresholds {"ok": …}), the limiter report beside
          --timeline F          the per-second timeline as CSV
          --chart F             the per-second timeline as an SVG chart
          --requests F          one NDJSON line per request (its error when no answer came)
                                Any one of these four may be '-': standard output (the report moves to
                                standard error). Every path is checked before the first request.
          --no-progress         no live progress line on a terminal

        A 429 is what this tool studies: it is counted apart from failures (5xx, no answer).
        Latency is measured from when a request was due (free of coordinated omission) and from when
        it was sent. Ctrl-C stops the test and prints the summary of what ran. The summary lists the
        commonest failure reasons and ends with the result: done, interrupted, or failed and why.
        Durations take ms, s, m, h and compounds (1m30s).

        EXIT STATUS: 0 done, 1 error (or no request was answered at all: nothing was measured),
        64 usage error, 99 a threshold failed, 130 interrupted.

        EXAMPLES:
          convoy mock-server --port 8080 --limit 100 --window 1 &
          convoy loadtest 'http://127.0.0.1:8080/api/v2/conversations/{id}' --find-limit
          convoy loadtest https://gateway.example.com/orders --rate 200/s --duration 1m --threshold 'p99<300ms'
        """

    enum Mode: Equatable {
        case schedule(LoadSchedule)
        case findLimit

        /// The schedule, for the open and closed models.
        var schedule: LoadSchedule? {
            if case .schedule(let schedule) = self { return schedule }
            return nil
        }
    }

    var url: String
    var method: String
    var headers: [String: String]
    var body: Data?
    var ids: [String]
    var mode: Mode
    var maxInFlight: Int
    /// The bounds of every exchange: a request that breaks them counts as failed, with its reason.
    var limits = HTTPLimits()
    var maxDuration: Double
    var maxRate: Double
    var thresholds: [Threshold]
    var summaryExport: String?
    var timelinePath: String?
    var chartPath: String?
    var requestsPath: String?
    var showProgress: Bool
    var authentication: FetchCommand.Authentication
    /// `--tokens`: more bearer tokens, for the scope probe.
    var tokens: [String]

    init(arguments: [String], environment: [String: String]) throws {
        var arguments = Arguments(arguments)
        method = try arguments.value("method")?.uppercased() ?? "GET"
        headers = [:]
        for header in try arguments.values("header") {
            guard let colon = header.firstIndex(of: ":"), colon > header.startIndex else {
                throw ConvoyError.usage("--header takes 'Name: value', not '\(header)'")
            }
            headers[String(header[..<colon])] = header[header.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        if let text = try arguments.value("body") { body = Data(text.utf8) }
        if let file = try arguments.value("body-file") {
            guard body == nil else { throw ConvoyError.usage("give --body or --body-file, not both") }
            if file == "-", try arguments.value("ids") == "-" {
                throw ConvoyError.usage("--ids and --body-file cannot both read standard input")
            }
            let data =
                file == "-"
                ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
            guard let data else {
                throw ConvoyError.usage("cannot read --body-file \(file)")
            }
            body = data
        }
        if let file = try arguments.value("ids") {
            let data =
                file == "-"
                ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
            guard let data, let text = String(data: data, encoding: .utf8) else {
                throw ConvoyError.usage("cannot read --ids \(file)")
            }
            ids = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") }
            guard !ids.isEmpty else { throw ConvoyError.usage("--ids \(file) holds no ids") }
        } else {
            ids = []
        }
        let insecure = try arguments.flag("insecure-http")
        let region = try FetchCommand.region(&arguments, environment: environment)
        let apiBase = try (try arguments.value("api-base")).map { try Self.validate($0, insecure: insecure) }
        let loginBase =
            try (try arguments.value("login-base")).map { try Self.validate($0, insecure: insecure) }
            ?? region?.loginBase ?? apiBase
        authentication = try FetchCommand.authentication(&arguments, environment: environment, loginBase: loginBase)
        if let file = try arguments.value("tokens") {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ConvoyError.usage("cannot read --tokens \(file)")
            }
            tokens = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            guard tokens.count >= 2 else { throw ConvoyError.usage("--tokens \(file) needs two tokens or more") }
        } else {
            tokens = []
        }
        // Timing and output.
        let rate = try arguments.value("rate")
        let duration = try arguments.value("duration")
        let stages = try arguments.values("stage")
        let startRate = try arguments.value("start-rate")
        let users = try arguments.integer("vus", in: 1...100_000)
        let findLimit = try arguments.flag("find-limit")
        maxInFlight = try arguments.integer("max-in-flight", in: 1...100_000) ?? 1000
        try TransportOptions.parse(&arguments, into: &limits)
        maxDuration = try Self.duration(try arguments.value("max-duration"), option: "max-duration") ?? 180
        let maxRateText = try arguments.value("max-rate")
        maxRate =
            try maxRateText.map { text in
                guard let rate = LoadSchedule.parseRate(text), rate >= 1 else {
                    throw ConvoyError.usage("--max-rate takes a rate of at least 1/s, such as 500/s, not '\(text)'")
                }
                return rate
            } ?? 2000
        thresholds = try arguments.values("threshold").map { text in
            guard let threshold = Threshold(text) else {
                throw ConvoyError.usage(
                    "--threshold takes METRIC OP VALUE, e.g. 'p99<500ms' or 'http_429_rate<1%', not '\(text)'; "
                        + "metrics: \(Threshold.metrics.joined(separator: ", "))")
            }
            return threshold
        }
        summaryExport = try arguments.value("summary-export")
        timelinePath = try arguments.value("timeline")
        chartPath = try arguments.value("chart")
        requestsPath = try arguments.value("requests")
        showProgress = try !arguments.flag("no-progress")
        let positionals = arguments.takePositionals()
        try arguments.finish()
        let streamed = [
            ("summary-export", summaryExport), ("timeline", timelinePath), ("chart", chartPath),
            ("requests", requestsPath),
        ].filter { $0.1 == "-" }.map(\.0)
        guard streamed.count <= 1 else {
            throw ConvoyError.usage(
                "only one output can be standard output ('-'), not "
                    + streamed.map { "--" + $0 }.joined(separator: " and "))
        }

        guard positionals.count == 1, let target = positionals.first else {
            throw ConvoyError.usage(
                positionals.isEmpty
                    ? "convoy loadtest needs a target URL, e.g. convoy loadtest https://api.example.com/items --rate 10/s --duration 30s"
                    : "convoy loadtest takes one URL, got \(positionals.count)")
        }
        if target.hasPrefix("/") {
            guard let base = apiBase ?? region?.apiBase else {
                throw ConvoyError.usage("a path such as '\(target)' needs --api-base or --region to say the host")
            }
            url = base.absoluteString.trimmingSuffix("/") + target
        } else {
            url = target
        }
        let checked = try Self.validate(
            url.replacingOccurrences(of: "{id}", with: "x"), insecure: insecure, option: "URL")
        if !insecure {
            try FetchCommand.refuseClearTextProxy(
                for: [checked] + (loginBase.map { [$0] } ?? []), environment: environment,
                remedy: "add the host to no_proxy, or give --insecure-http to allow it")
        }

        let modes = [rate != nil, !stages.isEmpty, users != nil, findLimit].filter { $0 }.count
        guard modes == 1 else {
            throw ConvoyError.usage(
                modes == 0
                    ? "choose the load: --rate R --duration D, --stage D:R…, --vus N --duration D, or --find-limit"
                    : "give one load model: --rate, --stage, --vus or --find-limit")
        }
        if findLimit {
            mode = .findLimit
        } else if let rate {
            guard let perSecond = LoadSchedule.parseRate(rate), perSecond > 0 else {
                throw ConvoyError.usage("--rate takes requests per second such as 100/s or 6000/m, not '\(rate)'")
            }
            guard let seconds = try Self.duration(duration, option: "duration") else {
                throw ConvoyError.usage("--rate needs --duration (e.g. --duration 30s): a load test must end")
            }
            mode = .schedule(.constant(rate: perSecond, duration: seconds))
        } else if let users {
            guard let seconds = try Self.duration(duration, option: "duration") else {
                throw ConvoyError.usage("--vus needs --duration (e.g. --duration 30s): a load test must end")
            }
            mode = .schedule(LoadSchedule(.closed(users: users, duration: seconds)))
        } else {
            let parsed = try stages.map { text in
                guard let stage = LoadSchedule.parseStage(text) else {
                    throw ConvoyError.usage("--stage takes DURATION:RATE such as 30s:100/s, not '\(text)'")
                }
                return stage
            }
            let start = try startRate.map { text in
                guard let value = LoadSchedule.parseRate(text) else {
                    throw ConvoyError.usage("--start-rate takes a rate such as 10/s, not '\(text)'")
                }
                return value
            }
            mode = .schedule(LoadSchedule(.open(startRate: start ?? 0, stages: parsed)))
        }
        if mode == .findLimit, duration != nil {
            throw ConvoyError.usage("--find-limit ends by itself; cap it with --max-duration, not --duration")
        }
        if !tokens.isEmpty {
            guard findLimit else { throw ConvoyError.usage("--tokens is for --find-limit's scope probe") }
            authentication = .token(tokens[0])
        }
    }

    /// The files the run writes, opened before any request is sent: a path that cannot be written
    /// fails the run before it costs any load.
    private struct Outputs {
        var summary: AtomicFile.Writer?
        var timeline: AtomicFile.Writer?
        var chart: AtomicFile.Writer?
        var requests: AtomicFile.Writer?
    }

    /// True when an output streams to standard output: the report goes to standard error then.
    var streamsToStandardOutput: Bool { [summaryExport, timelinePath, chartPath, requestsPath].contains("-") }

    private func openOutputs() throws -> Outputs {
        func open(_ path: String?, _ option: String) throws -> AtomicFile.Writer? {
            guard let path, path != "-" else { return nil }
            try OutputPathCheck.check(path, option: "--" + option)
            do {
                // A new file renamed into place: never written through a link planted at `path`.
                return try AtomicFile.Writer(path: path)
            } catch {
                throw ConvoyError.output("--\(option) \(path) cannot be written: \(ErrorText.describe(error))")
            }
        }
        return Outputs(
            summary: try open(summaryExport, "summary-export"), timeline: try open(timelinePath, "timeline"),
            chart: try open(chartPath, "chart"), requests: try open(requestsPath, "requests"))
    }

    func run(console: Console) async throws -> Int32 {
        let outputs = try openOutputs()
        let (credentials, _) = try await authentication.provider()
        let transport = AuthorizingTransport(
            base: DefaultTransport(
                maxConnectionsPerHost: min(maxInFlight, 1024), timeout: .seconds(30), limits: limits),
            credentials: credentials)
        let (url, method, headers, body, ids) = (self.url, self.method, self.headers, self.body, self.ids)
        /// The k-th request: `{id}` filled (percent-encoded) from the ids, cycled, or a random UUID.
        @Sendable func request(_ index: Int, token: Int) -> (request: HTTPRequest, token: Int) {
            let id = ids.isEmpty ? UUID().uuidString.lowercased() : ids[index % ids.count]
            let encoded = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id
            // The URL was checked with a placeholder id, so the fallback always parses.
            let target =
                URL(string: url.replacingOccurrences(of: "{id}", with: encoded))
                ?? URL(string: url.replacingOccurrences(of: "{id}", with: "x"))!
            return (HTTPRequest(method: method, url: target, headers: headers, body: body), token)
        }
        let runner = LoadRunner(transport: transport, clock: ContinuousClock()) { request($0, token: 0) }
        console.error("convoy loadtest: \(method) \(Redaction.url(text: url))")
        let started = ContinuousClock.now
        let startedAt = Date()
        let work = Task { () -> (LoadRunner<ContinuousClock>.Result, LimiterReport?, LoadSchedule?) in
            switch mode {
            case .schedule(let schedule):
                return (await runner.run(schedule, maxInFlight: maxInFlight), nil, schedule)
            case .findLimit:
                var finder = LimitFinder(runner: runner, clock: ContinuousClock())
                finder.maxInFlight = maxInFlight
                finder.maximumSeconds = maxDuration
                finder.maximumRate = maxRate
                if tokens.count >= 2 {
                    let second = AuthorizingTransport(
                        base: DefaultTransport(maxConnectionsPerHost: 8, timeout: .seconds(30), limits: limits),
                        credentials: StaticCredentials(token: tokens[1]))
                    finder.otherToken = LoadRunner(transport: second, clock: ContinuousClock()) {
                        request($0, token: 1)
                    }
                }
                let (report, samples) = await finder.run()
                let elapsed = (ContinuousClock.now - started).seconds
                return (
                    .init(samples: samples, dropped: [], elapsed: elapsed, interrupted: Task.isCancelled), report, nil
                )
            }
        }
        let trap = SignalTrap { _ in work.cancel() }
        defer { trap.cancel() }
        let (total, plan) = (planned, mode.schedule)
        let progress = Task { [console, showProgress] in
            guard showProgress, console.isTerminal else { return }
            // The current rate: requests sent over the last second, from samples a quarter-second apart.
            var recent: [(time: Double, sent: Int)] = []
            while !Task.isCancelled {
                let now = runner.progress()
                let elapsed = (ContinuousClock.now - started).seconds
                recent.append((elapsed, now.sent))
                recent.removeAll { $0.time < elapsed - 1.001 }
                let span = elapsed - (recent.first?.time ?? elapsed)
                let current = span > 0 ? Double(now.sent - (recent.first?.sent ?? 0)) / span : 0
                console.progress(
                    Self.progressLine(
                        now, elapsed: elapsed, total: total, currentRate: current,
                        targetRate: plan.flatMap { plan in
                            if case .open = plan.model { plan.targetRate(at: elapsed) } else { nil }
                        },
                        width: ProgressLine.terminalColumns(environment: ProcessInfo.processInfo.environment)))
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        let (result, report, schedule) = await withTaskCancellationHandler {
            await work.value
        } onCancel: {
            work.cancel()
        }
        progress.cancel()
        console.clearProgress()
        // A schedule that ran to its end lasted its whole duration, though its last answer came sooner.
        let elapsed = result.interrupted ? result.elapsed : max(result.elapsed, schedule?.duration ?? 0)
        let summary = LoadSummary(
            samples: result.samples, dropped: result.dropped, elapsed: elapsed, schedule: schedule)
        let verdicts = thresholds.map { threshold -> (Threshold, Double?, Bool) in
            let value = summary.value(of: threshold.metric, limit: report)
            return (threshold, value, value.map(threshold.holds) ?? false)
        }
        let ending = LoadTestReport.ending(summary: summary, verdicts: verdicts, interrupted: result.interrupted)
        try export(
            summary: summary, report: report, samples: result.samples, verdicts: verdicts, outputs: outputs,
            startedAt: startedAt, console: console)
        let text = LoadTestReport.render(
            summary: summary, report: report, mode: mode, maxInFlight: maxInFlight, verdicts: verdicts,
            ending: ending)
        if streamsToStandardOutput { console.error(text) } else { console.print(text) }
        return ending.status
    }

    /// Seconds of load planned: the schedule's duration, or --find-limit's cap.
    var planned: Double {
        switch mode {
        case .schedule(let schedule): schedule.duration
        case .findLimit: maxDuration
        }
    }

    /// The live line, fitted to `width` columns: elapsed of the total and the share done, the
    /// rate over the last second beside the schedule's target, then the counts.
    static func progressLine(
        _ progress: LoadRunner<ContinuousClock>.Progress, elapsed: Double, total: Double, currentRate: Double,
        targetRate: Double?, width: Int
    ) -> String {
        func number(_ value: Double) -> String { String(format: "%.0f", value) }
        var line = ProgressLine()
        line.add("\(SummaryReport.clock(elapsed))/\(SummaryReport.clock(total))", priority: 0)
        line.add(String(format: "%.0f %%", min(100, 100 * elapsed / max(total, 1e-9))), priority: 1)
        line.add(
            "rate \(number(currentRate))" + (targetRate.map { "/\(number($0))" } ?? "") + "/s", priority: 2)
        line.add("sent \(progress.sent)", priority: 5)
        line.add("in flight \(progress.inFlight)", priority: 6)
        line.add("429s \(progress.throttled)", priority: 3)
        line.add("failed \(progress.failed)", priority: 4)
        line.add("dropped \(progress.dropped)", priority: 7)
        return line.fitted(width: width)
    }

    private func export(
        summary: LoadSummary, report: LimiterReport?, samples: [LoadSample], verdicts: [(Threshold, Double?, Bool)],
        outputs: Outputs, startedAt: Date, console: Console
    ) throws {
        func write(_ data: Data, to writer: AtomicFile.Writer?, path: String?) throws {
            guard let path else { return }
            if path == "-" {
                console.print(String(decoding: data, as: UTF8.self).trimmingSuffix("\n"))
                return
            }
            try writer?.write(data)
            try writer?.commit()
        }
        if summaryExport != nil {
            let export = LoadTestExport(
                summary: summary, limiter: report, verdicts: verdicts,
                metadata: .init(
                    version: FetchRunner.version, url: Redaction.url(text: url), method: method,
                    model: LoadTestReport.describe(mode, maxInFlight: maxInFlight),
                    start: RecordEncoder.timestamp(startedAt)))
            try write(try export.json(), to: outputs.summary, path: summaryExport)
        }
        try write(Data(summary.timelineCSV.utf8), to: outputs.timeline, path: timelinePath)
        if chartPath != nil {
            try write(
                Data(summary.chart(title: "convoy loadtest \(method) \(Redaction.url(text: url))", limit: report).utf8),
                to: outputs.chart, path: chartPath)
        }
        if requestsPath != nil {
            var lines = Data()
            for sample in samples {
                var fields = [
                    "\"intended\":\(LoadSummary.format(sample.intended))",
                    "\"sent\":\(LoadSummary.format(sample.sent))",
                    "\"answered\":\(LoadSummary.format(sample.answered))",
                    "\"status\":\(sample.status.map(String.init) ?? "null")",
                ]
                if let limit = sample.limit { fields.append("\"limit\":\(limit)") }
                if let remaining = sample.remaining { fields.append("\"remaining\":\(remaining)") }
                if let reset = sample.resetAfter { fields.append("\"reset\":\(LoadSummary.format(reset))") }
                if let retry = sample.retryAfter { fields.append("\"retryAfter\":\(LoadSummary.format(retry))") }
                if let error = sample.error { fields.append("\"error\":\(Self.jsonString(console.redacted(error)))") }
                lines.append(Data(("{" + fields.joined(separator: ",") + "}\n").utf8))
            }
            try write(lines, to: outputs.requests, path: requestsPath)
        }
    }

    /// `text` as a JSON string literal.
    static func jsonString(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let data = (try? encoder.encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// https anywhere; http on loopback, or elsewhere with `--insecure-http`.
    static func validate(_ text: String, insecure: Bool, option: String = "api-base") throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), url.host != nil,
            scheme == "https" || scheme == "http"
        else {
            throw ConvoyError.usage(
                "\(option == "URL" ? "the URL" : "--" + option) must be an http(s) URL, not '\(text)'")
        }
        if scheme == "http", !FetchCommand.isLoopback(url), !insecure {
            throw ConvoyError.usage(
                "plain http to \(url.host ?? text) may carry a token in clear: use https, or --insecure-http for an "
                    + "internal gateway")
        }
        return url
    }

    static func duration(_ text: String?, option: String) throws -> Double? {
        guard let text else { return nil }
        guard let seconds = LoadSchedule.parseDuration(text), seconds > 0 else {
            throw ConvoyError.usage("--\(option) takes a duration such as 30s, 1m30s or 500ms, not '\(text)'")
        }
        return seconds
    }
}

/// Adds `Authorization: Bearer <token>` from a credential provider to every request.
private struct AuthorizingTransport: HTTPTransport {
    let base: any HTTPTransport
    let credentials: any CredentialProvider

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var request = request
        if let token = try await credentials.accessToken() { request.headers["Authorization"] = "Bearer \(token)" }
        return try await base.send(request)
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
