/// Tuning for ``RateLimiter``. The defaults suit Genesys Cloud (300 requests per minute per token).
public struct RateLimiterConfiguration: Sendable, Equatable {
    /// Requests per second before the server has said anything, and where slow start begins when it
    /// never sends budget headers. Default 5, Genesys's 300 per minute.
    public var initialRate: Double
    /// The pacing rate never falls below this (requests per second). Default 0.2.
    public var minimumRate: Double
    /// A ceiling set by the user (`--max-rate`), or nil for none.
    public var maximumRate: Double?
    /// Without budget headers, against a window (429s with `Retry-After`): when a 429 strikes at a
    /// rate that was accepted before (the limit fell), the search restarts from `decreaseFactor ×`
    /// that rate. Default 0.9.
    public var decreaseFactor: Double
    /// With budget headers, a window that is behind may be paced at up to
    /// `catchUpFactor × limit ÷ window`. Default 2.
    public var catchUpFactor: Double
    /// The longest pause a `Retry-After` can impose; longer values are capped. Default 15 minutes.
    public var maximumPause: Duration
    /// The pause after a 429 that names no `Retry-After` and no reset, with budget headers, or
    /// against a window that lets nothing through (doubling from here); a bucket's 429 without
    /// headers costs one interval instead. Default 1 s.
    public var defaultPause: Duration
    /// How early a request may leave before its pacing slot, so that one timer wake-up releases
    /// every request due within it; pauses and window boundaries are never anticipated. Default 2 ms.
    public var slack: Duration

    public init(
        initialRate: Double = 5, minimumRate: Double = 0.2, maximumRate: Double? = nil,
        decreaseFactor: Double = 0.9, catchUpFactor: Double = 2,
        maximumPause: Duration = .seconds(900), defaultPause: Duration = .seconds(1), slack: Duration = .milliseconds(2)
    ) {
        self.initialRate = initialRate
        self.minimumRate = minimumRate
        self.maximumRate = maximumRate
        self.decreaseFactor = decreaseFactor
        self.catchUpFactor = catchUpFactor
        self.maximumPause = maximumPause
        self.defaultPause = defaultPause
        self.slack = slack
    }
}
