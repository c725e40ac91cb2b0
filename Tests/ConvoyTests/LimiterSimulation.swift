import Convoy
import ConvoyMock
import Testing

/// A discrete-event simulation of clients (each a ``RateLimiterState`` with a concurrency cap)
/// sharing one simulated server limiter, on simulated time: minutes of traffic in milliseconds of
/// CPU, with no clock at all. Every request is decided at the server when it arrives (half the
/// latency after it was sent) and answered a full latency after it was sent.
struct LimiterSimulation {
    /// The server's limiter.
    enum Server {
        /// At most `limit` per `window`; a 429 carries `Retry-After` in whole seconds, rounded up.
        case fixedWindow(limit: Int, window: Double)
        /// GCRA: `rate` per second, `burst` at once beyond that; a 429 carries nothing.
        case leakyBucket(rate: Double, burst: Int)
        /// At most `limit` per `window`, every answer with Genesys's budget headers (the reset in
        /// whole seconds, rounded up).
        case genesys(limit: Int, window: Double)
        /// At most `limit` per `window`; a 429 carries nothing.
        case plainWindow(limit: Int, window: Double)

        var rate: Double {
            switch self {
            case .fixedWindow(let limit, let window), .genesys(let limit, let window),
                .plainWindow(let limit, let window):
                Double(limit) / window
            case .leakyBucket(let rate, _): rate
            }
        }
    }

    struct Result {
        var sent = 0
        var accepted = 0
        var throttled = 0
        /// Accepted requests per second ÷ the server's rate, from `from` to the end.
        var goodput = 0.0
        var throttledShare: Double { sent > 0 ? Double(throttled) / Double(sent) : 0 }
        /// The pace every 10 s, for a failure message.
        var rates: [Int] = []
        /// Accepted requests of each client, measured like `accepted`.
        var acceptedByClient: [Int] = []
        /// With `work`: when each client's last request was answered, in seconds (nil: unfinished).
        var finishedAt: [Double?] = []
    }

    var server: Server
    var latency = 0.1
    var concurrency = 16
    var configuration = RateLimiterConfiguration()
    /// Replaces the server's limiter at `at` seconds.
    var change: (at: Double, server: Server)?
    /// Clients sharing the server's budget, each with its own limiter and `concurrency`.
    var clients = 1
    /// Each request's latency is drawn uniformly from `latency × (1 ± jitter)`, so answers (and
    /// arrivals) come out of order.
    var jitter = 0.0
    /// Requests each client has to complete, told to its limiter (``RateLimiterState/expect(requests:now:)``)
    /// as they are answered; nil for an endless run.
    var work: Int?

    /// Runs for `seconds`, measuring from `measureFrom` seconds on (to leave out the start-up search).
    func run(seconds: Double, measureFrom: Double = 0) -> Result {
        typealias Instant = ManualClock.Instant
        typealias Answer = (at: Instant, permit: RateLimitPermit, status: Int, observation: RateLimitObservation)
        var states = (0..<clients).map { _ in
            RateLimiterState<Instant>(configuration: configuration, now: instant(0))
        }
        var answers = [[Answer]](repeating: [], count: clients)
        var limiter = ServerLimiter(server)
        let end = instant(seconds)
        let latency = Duration.seconds(self.latency)
        var result = Result()
        result.acceptedByClient = Array(repeating: 0, count: clients)
        var changed = false
        var now = instant(0)
        var completed = [Int](repeating: 0, count: clients)
        result.finishedAt = Array(repeating: nil, count: clients)
        if let work {
            for client in 0..<clients { states[client].expect(requests: work, now: now) }
        }
        var random = SplitMix64(seed: 7)
        while now < end {
            // The earliest event of any client: an answer, or an admission with a free slot. Clients
            // are visited in a random order, so that none wins every tie.
            var best: (at: Instant, client: Int, answer: Int?)?
            for client in (0..<clients).shuffled(using: &random) {
                if let index = answers[client].indices.min(by: { answers[client][$0].at < answers[client][$1].at }),
                    best.map({ answers[client][index].at < $0.at }) ?? true
                {
                    best = (answers[client][index].at, client, index)
                }
                let busy = work.map { completed[client] + answers[client].count >= $0 } ?? false
                if answers[client].count < concurrency, !busy {
                    let admission = states[client].earliestAdmission(now: now)
                    if best.map({ admission < $0.at }) ?? true { best = (admission, client, nil) }
                }
            }
            guard let (at, client, index) = best, at < end else { break }
            now = Swift.max(now, at)
            if let index {
                let answer = answers[client].remove(at: index)
                states[client].record(answer.permit, status: answer.status, observation: answer.observation, now: now)
                if let work, answer.status == 200 {
                    completed[client] += 1
                    states[client].expect(requests: work - completed[client], now: now)
                    if completed[client] == work { result.finishedAt[client] = now.offset.seconds }
                }
                continue
            }
            guard let permit = states[client].admit(now: now) else {
                Issue.record("the state named \(at) as the earliest admission, then refused it")
                break
            }
            let drawn = latency * (1 + jitter * (Double(random.next() % 2001) / 1000 - 1))
            let arrival = now.advanced(by: drawn / 2).offset.seconds
            if let change, !changed, arrival >= change.at {
                limiter = ServerLimiter(change.server, at: arrival)
                changed = true
            }
            let (admitted, observation) = limiter.offer(at: arrival)
            let measured = now.offset.seconds >= measureFrom
            if client == 0, now.offset.seconds >= Double(result.rates.count) * 10 {
                result.rates.append(Int(states[0].rate(at: now)))
            }
            if measured { result.sent += 1 }
            if measured, admitted {
                result.accepted += 1
                result.acceptedByClient[client] += 1
            }
            if measured, !admitted { result.throttled += 1 }
            answers[client].append((now.advanced(by: drawn), permit, admitted ? 200 : 429, observation))
        }
        let rate = (change.map { $0.at <= measureFrom ? $0.server : server } ?? server).rate
        result.goodput = Double(result.accepted) / ((seconds - measureFrom) * rate)
        return result
    }

    private func instant(_ seconds: Double) -> ManualClock.Instant {
        ManualClock.Instant(offset: .nanoseconds(Int64((seconds * 1e9).rounded())))
    }

}

/// The simulated server's limiter, in seconds since the server started.
private struct ServerLimiter {
    let server: LimiterSimulation.Server
    var windowIndex = -1
    var used = 0
    var theoreticalArrival: Double

    init(_ server: LimiterSimulation.Server, at start: Double = 0) {
        self.server = server
        theoreticalArrival = start
    }

    mutating func offer(at time: Double) -> (admitted: Bool, observation: RateLimitObservation) {
        switch server {
        case .fixedWindow(let limit, let window), .genesys(let limit, let window), .plainWindow(let limit, let window):
            let index = Int(time / window)
            if index != windowIndex {
                windowIndex = index
                used = 0
            }
            let admitted = used < limit
            if admitted { used += 1 }
            let untilReset = Duration.seconds(max(1, (Double(index + 1) * window - time).rounded(.up)))
            if case .plainWindow = server { return (admitted, RateLimitObservation()) }
            guard case .genesys = server else {
                return (admitted, RateLimitObservation(retryAfter: admitted ? nil : untilReset))
            }
            return (
                admitted,
                RateLimitObservation(
                    limit: limit, remaining: limit - used, resetAfter: untilReset,
                    retryAfter: admitted ? nil : untilReset, family: .genesys)
            )
        case .leakyBucket(let rate, let burst):
            let interval = 1 / rate
            guard theoreticalArrival - time <= Double(burst) * interval + 1e-12 else {
                return (false, RateLimitObservation())
            }
            theoreticalArrival = max(theoreticalArrival, time) + interval
            return (true, RateLimitObservation())
        }
    }
}
