/// Ways the mock's rate-limit headers can be made to lie, so that a load test can be shown to
/// notice (`convoy mock-server --lie-remaining K --lie-retry-after F`).
public struct MockLies: Sendable, Equatable {
    /// Added to the true remaining in every budget header (clamped at 0): with `k > 0` the server
    /// answers 429 while its headers still say `k` remain.
    public var remainingOffset: Int
    /// `Retry-After` is the true wait times this factor, rounded down to whole seconds: below 1 it
    /// names a time at which requests are still refused.
    public var retryAfterFactor: Double

    public init(remainingOffset: Int = 0, retryAfterFactor: Double = 1) {
        self.remainingOffset = remainingOffset
        self.retryAfterFactor = retryAfterFactor
    }

    /// True when the headers tell the truth.
    public var isHonest: Bool { remainingOffset == 0 && retryAfterFactor == 1 }
}
