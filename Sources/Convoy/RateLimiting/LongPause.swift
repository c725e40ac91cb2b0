/// A pause of every sender worth saying: a `Retry-After` of at least ``announced``, or any
/// `Retry-After` or reset (with nothing remaining) capped at
/// ``RateLimiterConfiguration/maximumPause``. A run that goes quiet for minutes says why.
public struct LongPause: Sendable, Equatable {
    /// What the server asked for.
    public enum Source: String, Sendable {
        case retryAfter = "Retry-After"
        case reset = "the window's reset"
    }

    /// How long the server asked every client to wait.
    public var requested: Duration
    /// How long every request waits: `min(requested, maximumPause)`.
    public var applied: Duration
    public var source: Source
    /// Long pauses so far in the run, this one included: a new one has a higher number.
    public var number: Int

    public init(requested: Duration, applied: Duration, source: Source, number: Int) {
        self.requested = requested
        self.applied = applied
        self.source = source
        self.number = number
    }

    /// True when the server asked for longer than the limiter waits.
    public var isCapped: Bool { requested > applied }

    /// Pauses at least this long are announced.
    public static let announced: Duration = .seconds(10)
}
