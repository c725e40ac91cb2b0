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
}
