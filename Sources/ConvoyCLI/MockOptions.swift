import Convoy
import ConvoyMock
import Foundation

/// The mock API's options, shared by `convoy mock-server` and `convoy demo`.
struct MockOptions {
    static let help = """
          --limit N             requests allowed per window (default %LIMIT%; 0 = unlimited)
          --window SECONDS      window length (default %WINDOW%); Genesys uses 60
          --bucket              a token bucket (capacity N, refilled N per window) instead of a fixed window
          --leaky BURST         a leaky bucket (GCRA, as nginx limit_req): N per window evenly, at most BURST
                                at once beyond that, and 429s without Retry-After
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
        let burst = try arguments.integer("leaky", in: 0...10_000_000)
        if bucket, burst != nil { throw ConvoyError.usage("--bucket and --leaky are different limiters: choose one") }
        if let limit, limit > 0, let window {
            configuration.rateLimit =
                if let burst {
                    .leakyBucket(ratePerSecond: Double(limit) / window, burst: burst)
                } else if bucket {
                    .tokenBucket(capacity: limit, refillPerSecond: Double(limit) / window)
                } else {
                    .fixedWindow(limit: limit, window: .seconds(window))
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
        let kind = try arguments.value("latency") ?? "fixed"
        if let milliseconds = try arguments.number("latency-ms", in: 0...600_000) {
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
            parts.append("leaky bucket \(SummaryReport.format(rate, digits: 1))/s, burst \(burst), no Retry-After")
        case nil:
            parts.append("no rate limit")
        }
        parts.append("\(configuration.headerFamily.rawValue) headers")
        parts.append(describe(configuration.latency))
        parts.append("\(configuration.missingPerMille)‰ missing")
        if let oauth = configuration.oauth {
            parts.append("OAuth tokens live \(SummaryReport.format(oauth.tokenLifetime.seconds, digits: 1)) s")
        }
        return parts.joined(separator: ", ")
    }
}
