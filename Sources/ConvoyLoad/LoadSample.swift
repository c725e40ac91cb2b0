import Convoy
import Foundation

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
    /// Why no answer came (a transport error: `cannot connect to 127.0.0.1:1: Connection refused`);
    /// nil when one did.
    public var error: String?

    public init(
        intended: Double, sent: Double, answered: Double, status: Int?, observation: RateLimitObservation? = nil,
        token: Int = 0, error: String? = nil
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
        self.error = error
    }

    /// A transport error in words: its `LocalizedError` description, else its text.
    public static func describe(_ error: any Error) -> String {
        if let described = (error as? any LocalizedError)?.errorDescription { return described }
        let text = "\(error)"
        return text.contains("Error Domain=") ? (error as NSError).localizedDescription : text
    }

    /// Answered 2xx (or 3xx): the limiter let it through.
    public var accepted: Bool { status.map { (200..<400).contains($0) } ?? false }
    /// Answered 429.
    public var throttled: Bool { status == 429 }
}
