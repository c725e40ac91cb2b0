/// The right to send one request, handed out by ``RateLimiter/acquire()``.
///
/// Give it back exactly once: ``RateLimiter/complete(_:status:observation:)`` with the answer, or
/// ``RateLimiter/abandon(_:)`` when no answer came. Permits are numbered in the order they were
/// handed out; the limiter uses that order to tell which requests a budget header already counts.
public struct RateLimitPermit: Sendable, Hashable {
    /// Position in the order of admission, starting at 0.
    public let sequence: UInt64
}
