import Convoy
import ConvoyMock
import Foundation

/// A named server profile: how the mock API limits, answers and fails, and how many ids to fetch.
struct Scenario: Sendable {
    let name: String
    let summary: String
    var server: MockServerConfiguration
    /// Requests per second the server allows a client (after any external load), for the metrics.
    let allowedRate: Double
    /// Ids to fetch.
    var ids: Int
    /// When set, the limit becomes this halfway through the floor time.
    var limitChange: MockRateLimit?
    /// Strategies that make sense here.
    var strategies: [Strategy]
    /// Client processes that share the budget, each fetching its own shard of the ids.
    var processes = 1
    /// Run only with --long or when --filter names it (it takes minutes).
    var longOnly = false

    /// The fastest possible wall time: ids ÷ allowed rate (the limit changes are accounted for).
    var floorSeconds: Double {
        guard allowedRate.isFinite, allowedRate > 0 else { return 0 }
        if case .fixedWindow(let limit, let window)? = limitChange {
            // Half of the ids at the first rate... precisely: the change happens at half the first floor.
            let first = Double(ids) / allowedRate / 2
            let remaining = Double(ids) - first * allowedRate
            return first + remaining / (Double(limit) / window.seconds)
        }
        return Double(ids) / allowedRate
    }

    /// The profiles of issue 4, scaled so one run of each strategy takes seconds, not minutes:
    /// Genesys's 300 per 60 s becomes `limit` per `window` seconds.
    static func all(ids: Int, limit: Int, window: Double, latency: Duration) -> [Scenario] {
        let rate = Double(limit) / window
        let fixed = MockRateLimit.fixedWindow(limit: limit, window: .seconds(window))
        let limited: [Strategy] = [.convoy, .sdkStyle, .toldLimit, .forumFix, .naive]
        let compared: [Strategy] = [.convoy, .sdkStyle, .toldLimit]
        func server(
            _ limit: MockRateLimit? = fixed, _ family: MockHeaderFamily = .genesys, _ delays: MockLatency? = nil,
            faults: MockFaults = .none, external: Double = 0
        ) -> MockServerConfiguration {
            MockServerConfiguration(
                rateLimit: limit, headerFamily: family, latency: delays ?? .fixed(latency), faults: faults,
                missingPerMille: 10, seed: 7, externalLoadPerWindow: external)
        }
        return [
            Scenario(
                name: "genesys", summary: "fixed window \(limit)/\(window)s, inin-ratelimit-* headers",
                server: server(), allowedRate: rate, ids: ids, strategies: limited),
            Scenario(
                name: "small-job",
                summary: "genesys, \(limit * 5 / 6) ids: fewer than one window's budget, so no pace is needed",
                server: server(), allowedRate: rate, ids: limit * 5 / 6, strategies: compared),
            Scenario(
                name: "five-windows",
                summary: "genesys, \(5 * limit) ids: five windows' budget, the last spent at once (20 ms latency, "
                    + "scaled like the window)",
                server: server(fixed, .genesys, .fixed(.milliseconds(20))), allowedRate: rate, ids: 5 * limit,
                strategies: compared),
            Scenario(
                name: "bucket", summary: "token bucket \(limit), refill \(rate)/s, X-RateLimit-* headers",
                server: server(.tokenBucket(capacity: limit, refillPerSecond: rate), .xRateLimit), allowedRate: rate,
                ids: ids, strategies: limited),
            Scenario(
                name: "429-only", summary: "fixed window \(limit)/\(window)s, no budget headers, 429 + Retry-After",
                server: server(fixed, .none), allowedRate: rate, ids: ids, strategies: limited),
            Scenario(
                name: "leaky",
                summary: "leaky bucket \(rate)/s, burst \(max(1, limit / 30)), 429 only: no headers, no Retry-After",
                server: {
                    // The gateway form of the bucket's 429s: no Retry-After is what this scenario measures.
                    var bare = server(.leakyBucket(ratePerSecond: rate, burst: max(1, limit / 30)), .none)
                    bare.bareBucket429s = true
                    return bare
                }(), allowedRate: rate, ids: ids, strategies: limited),
            Scenario(
                name: "429-only-long",
                summary: "429-only for 55 windows (\(Int(55 * window)) s), where the steady state dominates",
                server: server(fixed, .none), allowedRate: rate, ids: 55 * limit, strategies: [.convoy, .sdkStyle],
                longOnly: true),
            Scenario(
                name: "shared-token-2", summary: "genesys, 2 Convoy processes on one token, a shard each",
                server: server(), allowedRate: rate, ids: ids, strategies: [.convoy], processes: 2),
            Scenario(
                name: "shared-token-4", summary: "genesys, 4 Convoy processes on one token, a shard each",
                server: server(), allowedRate: rate, ids: ids, strategies: [.convoy], processes: 4),
            Scenario(
                name: "short-token",
                summary:
                    "genesys, OAuth tokens that live 2 windows (\(2 * window) s); a new token brings no new budget",
                server: {
                    var configuration = server()
                    configuration.oauth = MockOAuth(
                        clientId: "bench", clientSecret: "bench-secret", tokenLifetime: .seconds(2 * window))
                    return configuration
                }(), allowedRate: rate, ids: ids, strategies: [.convoy]),
            Scenario(
                name: "shared", summary: "fixed window, another client eats 30 % of each window",
                server: server(external: 0.3), allowedRate: rate * 0.7, ids: Int(Double(ids) * 0.7),
                strategies: limited),
            Scenario(
                name: "halving", summary: "fixed window whose limit halves mid-run",
                server: server(), allowedRate: rate, ids: ids,
                limitChange: .fixedWindow(limit: limit / 2, window: .seconds(window)), strategies: limited),
            Scenario(
                name: "lognormal", summary: "fixed window, log-normal latency (median \(latency), σ 0.6)",
                server: server(fixed, .genesys, .logNormal(median: latency, sigma: 0.6)), allowedRate: rate, ids: ids,
                strategies: limited),
            Scenario(
                name: "longtail", summary: "fixed window, 2 % of answers 1 s late",
                server: server(fixed, .genesys, .longTail(base: latency, tailProbability: 0.02, tail: .seconds(1))),
                allowedRate: rate, ids: ids, strategies: limited),
            Scenario(
                name: "faults", summary: "fixed window, 3 % 5xx and 2 % connection resets",
                server: server(faults: MockFaults(serverErrorRate: 0.03, resetRate: 0.02)), allowedRate: rate, ids: ids,
                strategies: limited),
            Scenario(
                name: "unlimited", summary: "no limit, no latency: the client's own overhead",
                server: server(nil, .none, MockLatency.none), allowedRate: .infinity, ids: ids * 10,
                strategies: [.convoy, .bare]),
        ]
    }
}
