/// Tuning for ``RateLimiter``. The defaults suit Genesys Cloud (300 requests per minute per token).
public struct RateLimiterConfiguration: Sendable, Equatable {
    /// Requests per second before the server has said anything, and where slow start begins when it
    /// never sends budget headers. Default 5, Genesys's 300 per minute.
    public var initialRate: Double
    /// The pacing rate never falls below this (requests per second). Default 0.2.
    public var minimumRate: Double
    /// A ceiling set by the user (`--max-rate`), or nil for none.
    public var maximumRate: Double?
    /// Without budget headers: on a 429 the rate drops to `decreaseFactor × rate`. Default 0.9.
    public var decreaseFactor: Double
    /// Without budget headers: how long the rate takes to climb back to where the last 429 struck
    /// (CUBIC's `K`); it lingers there, then probes beyond. Default 10 s.
    public var recoveryTime: Duration
    /// With budget headers, a window that is behind may be paced at up to
    /// `catchUpFactor × limit ÷ window`. Default 2.
    public var catchUpFactor: Double
    /// The longest pause a `Retry-After` can impose; longer values are capped. Default 15 minutes.
    public var maximumPause: Duration
    /// The pause after a 429 that names no `Retry-After` and no reset. Default 1 s.
    public var defaultPause: Duration

    public init(
        initialRate: Double = 5, minimumRate: Double = 0.2, maximumRate: Double? = nil,
        decreaseFactor: Double = 0.9, recoveryTime: Duration = .seconds(10), catchUpFactor: Double = 2,
        maximumPause: Duration = .seconds(900), defaultPause: Duration = .seconds(1)
    ) {
        self.initialRate = initialRate
        self.minimumRate = minimumRate
        self.maximumRate = maximumRate
        self.decreaseFactor = decreaseFactor
        self.recoveryTime = recoveryTime
        self.catchUpFactor = catchUpFactor
        self.maximumPause = maximumPause
        self.defaultPause = defaultPause
    }
}
