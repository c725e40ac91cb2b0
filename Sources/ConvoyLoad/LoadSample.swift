import Convoy

/// What happened to one request of a load test. Times are seconds since the test started.
public struct LoadSample: Sendable, Equatable {
    /// When the schedule wanted it sent; latency from here is free of coordinated omission.
    public var intended: Double
    /// When it was handed to the transport.
    public var sent: Double
    /// When its answer (or transport error) arrived.
    public var answered: Double
    /// The HTTP status; nil for a transport error.
    public var status: Int?
    /// The rate-limit headers of the answer, parsed as `convoy fetch` parses them.
    public var limit: Int?
    public var remaining: Int?
    /// Seconds until the reset the answer named.
    public var resetAfter: Double?
    public var retryAfter: Double?
    /// Which of several tokens (`--tokens`) it carried.
    public var token: Int

    public init(
        intended: Double, sent: Double, answered: Double, status: Int?, observation: RateLimitObservation? = nil,
        token: Int = 0
    ) {
        self.intended = intended
        self.sent = sent
        self.answered = answered
        self.status = status
        limit = observation?.limit
        remaining = observation?.remaining
        resetAfter = observation?.resetAfter?.seconds
        retryAfter = observation?.retryAfter?.seconds
        self.token = token
    }

    /// Answered 2xx (or 3xx): the limiter let it through.
    public var accepted: Bool { status.map { (200..<400).contains($0) } ?? false }
    /// Answered 429.
    public var throttled: Bool { status == 429 }
}
