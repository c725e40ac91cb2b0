/// What a probe inferred about a server's rate limiter: its kind, its parameters, the evidence for
/// each, and whether its headers tell the truth.
public struct LimiterReport: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// At most `limit` per window; the count restarts at boundaries, so a burst across one gets up to 2L.
        case fixedWindow = "fixed window"
        /// At most `limit` in any span of `window`: no boundary burst.
        case slidingWindow = "sliding window"
        /// A meter: after idle, `burst` go at once, then a steady `rate`; the excess is refused at
        /// once. GCRA and nginx `limit_req … nodelay` behave exactly so.
        case tokenBucket = "token bucket"
        /// A queue: the excess within `burst` is delayed to the `rate` (nginx `limit_req` without
        /// `nodelay`), the rest refused.
        case leakyBucket = "leaky bucket"
        /// No request was refused within the probe's budget.
        case none = "no limit found"
    }

    public enum Confidence: String, Sendable, Codable {
        case high, medium, low
    }

    public var kind: Kind
    public var confidence: Confidence
    /// Requests per window (windows), or nil.
    public var limit: Int?
    /// The window in seconds (windows), or nil.
    public var windowSeconds: Double?
    /// The sustained rate the limiter allows, requests per second: `limit ÷ window`, or the bucket's rate.
    public var ratePerSecond: Double?
    /// Requests that go at once after idle (token bucket depth; for a leaky bucket, nginx's `burst`).
    public var burst: Int?
    /// Seconds from the start of the first burst to its first 429, and requests accepted until then.
    public var onsetSeconds: Double?
    public var acceptedBeforeOnset: Int
    /// Accepted requests per window (or per second for buckets) during the over-rate phase.
    public var acceptedPerPeriod: [Int]
    /// Why the kind and figures are what they are, one line each.
    public var evidence: [String]
    /// What the headers claimed, checked against what the server did: one line each.
    public var headers: [String]
    /// True when any header finding is a lie (a 429 while `remaining` said more, a `Retry-After`
    /// too short, a stated limit that is not the enforced one).
    public var headersLie: Bool
    /// Requests the probe sent.
    public var requests: Int
    /// Seconds the probe took.
    public var seconds: Double

    public init(kind: Kind) {
        self.kind = kind
        confidence = .low
        acceptedBeforeOnset = 0
        acceptedPerPeriod = []
        evidence = []
        headers = []
        headersLie = false
        requests = 0
        seconds = 0
    }
}
