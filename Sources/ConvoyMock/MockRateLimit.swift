/// The server-side rate limit the mock enforces on every `/api/v2/` request.
///
/// A request over the limit is answered `429 Too Many Requests` with `Retry-After` and Genesys's normalised body;
/// 429s never consume budget. Limits are applied at request *arrival* time, before any injected latency.
public enum MockRateLimit: Sendable, Equatable {
    /// Genesys style: at most `limit` admitted requests per window.
    ///
    /// Window `k` covers `[start + k·window, start + (k+1)·window)` where `start` is the server's start instant on a
    /// monotonic clock; the counter resets to `floor(externalLoadPerWindow · limit)` at every boundary.
    /// Windows shorter than 1 ms are treated as 1 ms.
    case fixedWindow(limit: Int, window: Duration)

    /// A token bucket holding at most `capacity` tokens, refilled continuously at `refillPerSecond` tokens per second
    /// (minus `externalLoadPerWindow · refillPerSecond` eaten by the simulated other client). Starts full; every
    /// admitted request takes one token.
    case tokenBucket(capacity: Int, refillPerSecond: Double)

    /// A leaky bucket as gateways implement it (nginx `limit_req`, Envoy's local rate limit): the generic cell
    /// rate algorithm with emission interval `T = 1 / ratePerSecond` and tolerance `burst · T`. A request arriving
    /// at `t` is admitted when `TAT − t ≤ burst · T`, and then `TAT = max(TAT, t) + T` (TAT, the theoretical arrival
    /// time, starts at the server's start). So `burst + 1` requests may arrive at once, and after that one per `T`.
    /// Its 429s take Genesys's normalized form, `Retry-After` (until the bucket admits a request again) and
    /// `too.many.requests.retry.after`, unless ``MockServerConfiguration/bareBucket429s`` asks for the gateway form:
    /// **no** `Retry-After`, as such gateways' often do not. Budget headers, when a family is chosen, report
    /// `limit = burst + 1` and the whole requests the bucket would admit now.
    case leakyBucket(ratePerSecond: Double, burst: Int)

    /// A sliding log: a request is admitted when fewer than `limit` requests were admitted in the
    /// `window` before it (`(t − window, t]`). No boundary burst: any span of `window` holds at most
    /// `limit` admissions. A 429's `Retry-After` is the time until the oldest of them leaves the
    /// window, rounded up to whole seconds.
    case slidingWindow(limit: Int, window: Duration)

    /// A leaky bucket as a queue (nginx `limit_req` with `burst` and without `nodelay`): requests
    /// leave at `ratePerSecond`, one per `T`. A request arriving at `t` waits `max(0, TAT − t)` before
    /// it is served, when that wait is at most `burst · T` (then `TAT = max(TAT, t) + T`); otherwise
    /// it is refused at once with a 429 and no `Retry-After`. So `burst + 1` requests are accepted
    /// at once, the k-th of them answered `(k − 1) · T` late, and after that one per `T`.
    case leakyQueue(ratePerSecond: Double, burst: Int)
}
