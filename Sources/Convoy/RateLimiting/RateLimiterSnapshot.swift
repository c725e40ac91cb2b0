/// What the limiter has learned, for the summary and the progress line.
public struct RateLimiterSnapshot: Sendable, Equatable {
    /// How the pace is set now.
    public enum Mode: String, Sendable {
        /// No answer yet: pacing at the initial rate.
        case probing
        /// No budget headers: doubling each round trip (at most twice the measured rate) until the first 429.
        case slowStart = "slow start"
        /// No budget headers: bracketing the accepted rate between 429s (``RateSearch``).
        case congestionAvoidance = "searching"
        /// Paced from the server's budget headers.
        case headers
    }

    public var mode: Mode
    /// The server's budget per window, once a header said it.
    public var limit: Int?
    /// The window that budget applies to, in seconds (stated, or the longest reset seen).
    public var windowSeconds: Double?
    /// The header family the budget came from.
    public var family: RateLimitObservation.Family?
    /// The current pace in requests per second.
    public var rate: Double
    /// Requests admitted so far.
    public var admitted: UInt64
    /// Answers that throttled (429, or 503 with Retry-After).
    public var throttled: Int
    /// How many times every sender was paused.
    public var pauses: Int
    /// The latest pause of every sender worth announcing, when there was one.
    public var longPause: LongPause? = nil

    /// The learned sustainable rate, `limit ÷ window` requests per second, when known.
    public var learnedRate: Double? {
        guard let limit, let windowSeconds, windowSeconds > 0 else { return nil }
        return Double(limit) / windowSeconds
    }
}
