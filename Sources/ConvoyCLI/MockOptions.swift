import Convoy
import ConvoyMock
import Foundation

/// The mock API's options, shared by `convoy mock-server` and `convoy demo`.
struct MockOptions {
    static let help = """
          --limit N             requests allowed per window (default %LIMIT%; 0 = unlimited)
          --window SECONDS      window length (default %WINDOW%); Genesys uses 60
          --limiter KIND        fixed-window (default), sliding-window (at most N in any span of the
                                window), token-bucket (depth --burst, default N; refilled N per window),
                                leaky-bucket (a queue, nginx limit_req without nodelay: N per window
                                evenly, up to --burst waiting, the rest refused without Retry-After) or
                                gcra (nginx limit_req nodelay: --burst at once, the rest refused with
                                Genesys's normalized 429 and Retry-After)
          --bare-429            gcra 429s as gateways send them: no Retry-After, code too.many.requests
          --burst B             the bucket's depth or the queue's length (default: N; 10 for the queue)
          --bucket              the same as --limiter token-bucket
          --leaky BURST         the same as --limiter gcra --burst BURST
          --lie-remaining K     budget headers claim K more remaining than there is
          --lie-retry-after F   Retry-After names F times the true wait (e.g. 0.5: too short)
          --headers FAMILY      budget headers: genesys, x-ratelimit, x-ratelimit-epoch, ietf or none
                                (default genesys; 'none' sends only 429 + Retry-After)
          --latency-ms MS       median response latency (default %LATENCY%)
          --latency KIND        fixed, lognormal or longtail (default fixed)
          --missing-per-mille N ids in a thousand that answer 404 (default %MISSING%)
          --error-rate P        share of requests answered 500/502/503 (default 0)
          --reset-rate P        share of connections reset without an answer (default 0)
          --truncate-rate P     share of bodies cut short (default 0)
          --pretty-rate P       share of bodies pretty-printed over many lines (default 0)
          --external-load P     share of each window eaten by another client on the same token (default 0)
          --seed N              seed for latency and faults (default 1)
          --client-id ID        require OAuth: tokens from POST /oauth/token for this client id…
          --client-secret S     …and secret
          --token-lifetime S    seconds a token lives (default 86400); the API answers 401 after
          --interval-size N     conversations in the analytics jobs universe (default 2000)
          --analytics-cutoff T  analytics jobs find only conversations starting before T (ISO-8601),
                                which the jobs availability endpoint answers (default: no cut-off, and
                                the endpoint answers the current time); the details query ignores it
          --failing-jobs N      the first N analytics jobs submitted end FAILED (default 0)
          --job-lifetime S      seconds a fulfilled job's results are kept, then it is EXPIRED
                                (default 86400)
          --query-cap N         results the details query may page through (default 100000)
          --forbid ROUTE[,…]    answer 403 on these routes (repeatable): conversation, analytics,
                                analyticsBatch, analyticsQuery, recordingmetadata, messages,
                                messagesBulk, jobsSubmit, jobsAvailability, jobsStatus, jobsResults
        """

    var configuration = MockServerConfiguration()

    /// Reads the mock options, starting from `defaults`.
    init(_ arguments: inout Arguments, defaults: MockServerConfiguration) throws {
        configuration = defaults
        var limit: Int?
        var window: Double?
        if case .fixedWindow(let l, let w)? = defaults.rateLimit {
            limit = l
            window = w.seconds
        }
        limit = try arguments.integer("limit", in: 0...10_000_000) ?? limit
        window = try arguments.number("window", in: 0.001...86_400) ?? window ?? 60
        let bucket = try arguments.flag("bucket")
        let leaky = try arguments.integer("leaky", in: 0...10_000_000)
        var limiterKind = try arguments.value("limiter")
        var burst = try arguments.integer("burst", in: 0...10_000_000)
        if [bucket, leaky != nil, limiterKind != nil].filter({ $0 }).count > 1 {
            throw ConvoyError.usage("--limiter, --bucket and --leaky each choose the limiter: give one")
        }
        if bucket { limiterKind = "token-bucket" }
        if let leaky {
            limiterKind = "gcra"
            burst = leaky
        }
        if let limit, limit > 0, let window {
            let rate = Double(limit) / window
            switch limiterKind ?? "fixed-window" {
            case "fixed-window": configuration.rateLimit = .fixedWindow(limit: limit, window: .seconds(window))
            case "sliding-window": configuration.rateLimit = .slidingWindow(limit: limit, window: .seconds(window))
            case "token-bucket": configuration.rateLimit = .tokenBucket(capacity: burst ?? limit, refillPerSecond: rate)
            case "leaky-bucket": configuration.rateLimit = .leakyQueue(ratePerSecond: rate, burst: burst ?? 10)
            case "gcra": configuration.rateLimit = .leakyBucket(ratePerSecond: rate, burst: burst ?? 10)
            case let other:
                throw ConvoyError.usage(
                    "--limiter takes fixed-window, sliding-window, token-bucket, leaky-bucket or gcra, not '\(other)'")
            }
        } else if limit == 0 {
            configuration.rateLimit = nil
        }
        if let family = try arguments.value("headers") {
            let names: [String: MockHeaderFamily] = [
                "genesys": .genesys, "x-ratelimit": .xRateLimit, "x-ratelimit-epoch": .xRateLimitEpoch,
                "ietf": .ietf, "none": .none,
            ]
            guard let chosen = names[family.lowercased()] else {
                throw ConvoyError.usage(
                    "--headers takes genesys, x-ratelimit, x-ratelimit-epoch, ietf or none, not '\(family)'")
            }
            configuration.headerFamily = chosen
        }
        let latencyKind = try arguments.value("latency")
        var latencyMilliseconds = try arguments.number("latency-ms", in: 0...600_000)
        if latencyKind != nil, latencyMilliseconds == nil {
            // A shape without a size keeps the default median.
            if case .fixed(let median) = defaults.latency { latencyMilliseconds = median.seconds * 1000 }
            latencyMilliseconds = latencyMilliseconds ?? 100
        }
        let kind = latencyKind ?? "fixed"
        if let milliseconds = latencyMilliseconds {
            let median = Duration.milliseconds(milliseconds)
            switch kind {
            case "fixed": configuration.latency = milliseconds == 0 ? .none : .fixed(median)
            case "lognormal": configuration.latency = .logNormal(median: median, sigma: 0.5)
            case "longtail": configuration.latency = .longTail(base: median, tailProbability: 0.02, tail: median * 20)
            default: throw ConvoyError.usage("--latency takes fixed, lognormal or longtail, not '\(kind)'")
            }
        }
        configuration.missingPerMille =
            try arguments.integer("missing-per-mille", in: 0...1000) ?? configuration.missingPerMille
        configuration.faults.serverErrorRate = try arguments.number("error-rate", in: 0...1) ?? 0
        configuration.faults.resetRate = try arguments.number("reset-rate", in: 0...1) ?? 0
        configuration.faults.truncateRate = try arguments.number("truncate-rate", in: 0...1) ?? 0
        configuration.faults.prettyPrintRate = try arguments.number("pretty-rate", in: 0...1) ?? 0
        configuration.externalLoadPerWindow = try arguments.number("external-load", in: 0...1) ?? 0
        if let seed = try arguments.integer("seed", in: 0...Int.max) { configuration.seed = UInt64(seed) }
        if let id = try arguments.value("client-id") {
            guard let secret = try arguments.value("client-secret") else {
                throw ConvoyError.usage("--client-id needs --client-secret")
            }
            let lifetime = try arguments.number("token-lifetime", in: 0.1...31_536_000) ?? 86_400
            configuration.oauth = MockOAuth(clientId: id, clientSecret: secret, tokenLifetime: .seconds(lifetime))
        }
        if let size = try arguments.integer("interval-size", in: 1...1_000_000) { configuration.universeSize = size }
        if let text = try arguments.value("analytics-cutoff") {
            guard let cutOff = Self.date(text) else {
                throw ConvoyError.usage(
                    "--analytics-cutoff takes an ISO-8601 instant (2026-06-01T00:00:00Z), not '\(text)'")
            }
            configuration.analyticsAvailability = cutOff
        }
        configuration.failingJobs =
            try arguments.integer("failing-jobs", in: 0...1_000_000) ?? configuration.failingJobs
        if let lifetime = try arguments.number("job-lifetime", in: 0...31_536_000) {
            configuration.jobResultLifetime = .seconds(lifetime)
        }
        configuration.queryResultCap =
            try arguments.integer("query-cap", in: 1...1_000_000_000) ?? configuration.queryResultCap
        for list in try arguments.values("forbid") {
            for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard MockCounters.routeNames.contains(name), name != "token" else {
                    let names = MockCounters.routeNames.subtracting(["token"]).sorted().joined(separator: ", ")
                    throw ConvoyError.usage("--forbid takes route names (\(names)), not '\(name)'")
                }
                configuration.forbiddenRoutes.insert(name)
            }
        }
        configuration.bareBucket429s = try arguments.flag("bare-429")
        configuration.lies.remainingOffset = try arguments.integer("lie-remaining", in: 0...1_000_000) ?? 0
        configuration.lies.retryAfterFactor = try arguments.number("lie-retry-after", in: 0...100) ?? 1
    }

    /// `text` as an ISO-8601 instant, with or without fractional seconds.
    private static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    private static func describe(_ latency: MockLatency) -> String {
        func ms(_ duration: Duration) -> String { "\(Int((duration.seconds * 1000).rounded())) ms" }
        switch latency {
        case .none: return "no latency"
        case .fixed(let delay): return "latency \(ms(delay))"
        case .uniform(let low, let high): return "latency \(ms(low))–\(ms(high))"
        case .logNormal(let median, let sigma): return "log-normal latency, median \(ms(median)), σ \(sigma)"
        case .longTail(let base, let probability, let tail):
            return "latency \(ms(base)), \(Int(probability * 100)) % of answers \(ms(tail)) later"
        }
    }

    /// One line describing the server's profile.
    static func describe(_ configuration: MockServerConfiguration) -> String {
        var parts: [String] = []
        switch configuration.rateLimit {
        case .fixedWindow(let limit, let window)?:
            parts.append("fixed window \(limit) per \(SummaryReport.format(window.seconds, digits: 1)) s")
        case .tokenBucket(let capacity, let refill)?:
            parts.append("token bucket \(capacity), refill \(SummaryReport.format(refill, digits: 1))/s")
        case .leakyBucket(let rate, let burst)?:
            parts.append("GCRA \(SummaryReport.format(rate, digits: 1))/s, burst \(burst), no Retry-After")
        case .slidingWindow(let limit, let window)?:
            parts.append("sliding window \(limit) per \(SummaryReport.format(window.seconds, digits: 1)) s")
        case .leakyQueue(let rate, let burst)?:
            parts.append("leaky bucket (queue) \(SummaryReport.format(rate, digits: 1))/s, burst \(burst)")
        case nil:
            parts.append("no rate limit")
        }
        parts.append("\(configuration.headerFamily.rawValue) headers")
        parts.append(describe(configuration.latency))
        parts.append("\(configuration.missingPerMille)‰ missing")
        if let oauth = configuration.oauth {
            parts.append("OAuth tokens live \(SummaryReport.format(oauth.tokenLifetime.seconds, digits: 1)) s")
        }
        if let cutOff = configuration.analyticsAvailability {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            parts.append("analytics available before \(formatter.string(from: cutOff))")
        }
        switch configuration.failingJobs {
        case 0: break
        case 1: parts.append("the first job fails")
        case let count: parts.append("the first \(count) jobs fail")
        }
        if configuration.queryResultCap != MockServerConfiguration().queryResultCap {
            parts.append("query capped at \(configuration.queryResultCap)")
        }
        if !configuration.forbiddenRoutes.isEmpty {
            parts.append("403 on \(configuration.forbiddenRoutes.sorted().joined(separator: ", "))")
        }
        return parts.joined(separator: ", ")
    }
}
