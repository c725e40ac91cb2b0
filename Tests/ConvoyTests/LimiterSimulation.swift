import Convoy
import ConvoyMock
import Testing

/// A discrete-event simulation of one client (a ``RateLimiterState`` with a concurrency cap) against
/// a simulated server limiter, on simulated time: minutes of traffic in milliseconds of CPU, with
/// no clock at all. Every request is decided at the server when it arrives (half the latency after
/// it was sent) and answered a full latency after it was sent.
struct LimiterSimulation {
    /// The server's limiter.
    enum Server {
        /// At most `limit` per `window`; a 429 carries `Retry-After` in whole seconds, rounded up.
        case fixedWindow(limit: Int, window: Double)
        /// GCRA: `rate` per second, `burst` at once beyond that; a 429 carries nothing.
        case leakyBucket(rate: Double, burst: Int)

        var rate: Double {
            switch self {
            case .fixedWindow(let limit, let window): Double(limit) / window
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
        /// The limiter's pace at the end.
        var finalRate = 0.0
        /// Throttle events (pauses) over the whole run.
        var pauses = 0
        /// The pace every 10 s, for a failure message.
        var rates: [Int] = []
    }

    var server: Server
    var latency = 0.1
    var concurrency = 16
    var configuration = RateLimiterConfiguration()
    /// Replaces the server's limiter at `at` seconds.
    var change: (at: Double, server: Server)?

    /// Runs for `seconds`, measuring from `measureFrom` seconds on (to leave out the start-up search).
    func run(seconds: Double, measureFrom: Double = 0) -> Result {
        typealias Instant = ManualClock.Instant
        var state = RateLimiterState<Instant>(configuration: configuration, now: instant(0))
        var limiter = ServerLimiter(server)
        var answers: [(at: Instant, permit: RateLimitPermit, status: Int, observation: RateLimitObservation)] = []
        var now = instant(0)
        let end = instant(seconds)
        let latency = Duration.seconds(self.latency)
        var result = Result()
        var changed = false
        while now < end {
            let next = answers.indices.min { answers[$0].at < answers[$1].at }
            let admission = answers.count < concurrency ? state.earliestAdmission(now: now) : end
            if let next, answers[next].at <= admission {
                let answer = answers.remove(at: next)
                now = Swift.max(now, answer.at)
                state.record(answer.permit, status: answer.status, observation: answer.observation, now: now)
                continue
            }
            guard admission < end else { break }
            now = Swift.max(now, admission)
            guard let permit = state.admit(now: now) else {
                Issue.record("the state named \(admission) as the earliest admission, then refused it")
                break
            }
            let arrival = now.advanced(by: latency / 2).offset.seconds
            if let change, !changed, arrival >= change.at {
                limiter = ServerLimiter(change.server, at: arrival)
                changed = true
            }
            let (admitted, retryAfter) = limiter.offer(at: arrival)
            let measured = now.offset.seconds >= measureFrom
            if now.offset.seconds >= Double(result.rates.count) * 10 { result.rates.append(Int(state.rate(at: now))) }
            if measured { result.sent += 1 }
            if measured, admitted { result.accepted += 1 }
            if measured, !admitted { result.throttled += 1 }
            answers.append(
                (now.advanced(by: latency), permit, admitted ? 200 : 429, RateLimitObservation(retryAfter: retryAfter)))
        }
        let rate = (change.map { $0.at <= measureFrom ? $0.server : server } ?? server).rate
        result.goodput = Double(result.accepted) / ((seconds - measureFrom) * rate)
        result.finalRate = state.rate(at: now)
        result.pauses = state.snapshot(now: now).pauses
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

    mutating func offer(at time: Double) -> (admitted: Bool, retryAfter: Duration?) {
        switch server {
        case .fixedWindow(let limit, let window):
            let index = Int(time / window)
            if index != windowIndex {
                windowIndex = index
                used = 0
            }
            guard used < limit else {
                let untilReset = Double(index + 1) * window - time
                return (false, .seconds(max(1, untilReset.rounded(.up))))
            }
            used += 1
            return (true, nil)
        case .leakyBucket(let rate, let burst):
            let interval = 1 / rate
            guard theoreticalArrival - time <= Double(burst) * interval + 1e-12 else { return (false, nil) }
            theoreticalArrival = max(theoreticalArrival, time) + interval
            return (true, nil)
        }
    }
}
