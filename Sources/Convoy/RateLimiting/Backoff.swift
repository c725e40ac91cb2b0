/// Capped exponential backoff with full jitter, for 5xx answers and transport errors.
///
/// Before retry `n` (1 for the first retry) the wait is
/// `uniform(0, min(cap, base × 2^(n−1)))`: "full jitter", which in AWS's measurements finishes a
/// herd of retrying clients fastest. The exponent is capped before it is computed, so a large `n`
/// never overflows.
public struct Backoff: Sendable, Equatable {
    /// The ceiling of the first retry's wait.
    public var base: Duration
    /// No wait is ever longer than this.
    public var cap: Duration

    public init(base: Duration = .milliseconds(500), cap: Duration = .seconds(30)) {
        self.base = base
        self.cap = cap
    }

    /// The largest wait before retry `retry` (1-based): `min(cap, base × 2^(retry−1))`.
    public func ceiling(forRetry retry: Int) -> Duration {
        let exponent = min(max(retry - 1, 0), 30)
        let scaled = base.seconds * Double(1 << exponent)
        return .seconds(min(scaled, cap.seconds))
    }

    /// A jittered wait before retry `retry`, drawn from `generator`.
    public func delay(forRetry retry: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = ceiling(forRetry: retry).seconds
        guard ceiling > 0 else { return .zero }
        return .seconds(Double.random(in: 0...ceiling, using: &generator))
    }
}
