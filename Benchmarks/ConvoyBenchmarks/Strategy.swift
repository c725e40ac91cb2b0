import Convoy
import Foundation

/// A way of fetching ids from a rate-limited API, run side by side on the same profile.
enum Strategy: String, Sendable, CaseIterable, Codable {
    /// Convoy's engine and shared limiter, writing NDJSON like `convoy fetch`.
    case convoy
    /// What Genesys's SDKs do: fixed concurrency, each request sleeps its own Retry-After (3 s when
    /// absent); 5xx and network errors wait 3, 9, 27 s.
    case sdkStyle = "sdk-style"
    /// The forum fix: one request at a time, a fixed 2 s sleep on 429.
    case forumFix = "forum-fix"
    /// Fixed concurrency, retry at once on 429 and 5xx.
    case naive
    /// Told the limit, as an aiohttp script with aiolimiter's `AsyncLimiter(limit, window)` is: a
    /// client-side bucket of `limit` that refills at `limit ÷ window`, 16 in flight, Retry-After (1 s
    /// when absent) on a 429. The strongest peer a user can write by hand.
    case toldLimit = "told-limit"
    /// A bare URLSession loop with no limiter and no retries: the transport's own cost.
    case bare
}
