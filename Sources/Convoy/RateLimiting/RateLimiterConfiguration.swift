/// Tuning for ``RateLimiter``. The defaults suit Genesys Cloud (300 requests per minute per token).
public struct RateLimiterConfiguration: Sendable, Equatable {
    /// Requests per second before the server has said anything, and where slow start begins when it
    /// never sends budget headers. Default 5, Genesys's 300 per minute.
    public var initialRate: Double
    /// The pacing rate never falls below this (requests per second). Default 0.2.
    public var minimumRate: Double
    /// A ceiling set by the user (`--max-rate`), or nil for none.
    public var maximumRate: Double?
    /// Without budget headers: on a 429 the rate becomes `rate × decreaseFactor`. Default 0.9.
    public var decreaseFactor: Double
    /// Without budget headers: after a decrease the rate grows by
    /// `increasePerSecond × (rate at the last decrease)` every second. Default 0.01.
    public var increasePerSecond: Double
    /// With budget headers, a window that is behind may be paced at up to
    /// `catchUpFactor × limit ÷ window`. Default 2.
    public var catchUpFactor: Double
    /// The longest pause a `Retry-After` can impose; longer values are capped. Default 15 minutes.
    public var maximumPause: Duration
    /// The pause after a 429 that names no `Retry-After` and no reset. Default 1 s.
    public var defaultPause: Duration

    public init(
        initialRate: Double = 5, minimumRate: Double = 0.2, maximumRate: Double? = nil,
        decreaseFactor: Double = 0.9, increasePerSecond: Double = 0.01, catchUpFactor: Double = 2,
        maximumPause: Duration = .seconds(900), defaultPause: Duration = .seconds(1)
    ) {
        self.initialRate = initialRate
        self.minimumRate = minimumRate
        self.maximumRate = maximumRate
        self.decreaseFactor = decreaseFactor
        self.increasePerSecond = increasePerSecond
        self.catchUpFactor = catchUpFactor
        self.maximumPause = maximumPause
        self.defaultPause = defaultPause
    }
}
