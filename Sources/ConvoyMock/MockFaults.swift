/// Fault injection rates, each a probability in `0...1` drawn per admitted request from the server's seeded PRNG.
///
/// Faults never apply to 429s. Draw order per request: `resetRate` (then nothing else), `serverErrorRate`,
/// `truncateRate`, and `prettyPrintRate` (documents only). A rate of 0 draws nothing.
public struct MockFaults: Sendable, Equatable {
    /// Answer `500`, `502` or `503` (uniformly) with a Genesys-style error body; never with `Retry-After`.
    public var serverErrorRate: Double
    /// Close the connection abruptly (`SO_LINGER` 0, so the peer sees a TCP RST) without answering.
    public var resetRate: Double
    /// Send the full `Content-Length` but only the first half of the body, then close the connection.
    public var truncateRate: Double
    /// Send a conversation document pretty-printed (multi-line, 2-space indentation) instead of compact.
    public var prettyPrintRate: Double

    /// No faults: every rate is 0.
    public static let none = MockFaults()

    /// Creates fault rates; every rate defaults to 0 and is clamped to `0...1` when drawn.
    public init(
        serverErrorRate: Double = 0, resetRate: Double = 0, truncateRate: Double = 0, prettyPrintRate: Double = 0
    ) {
        self.serverErrorRate = serverErrorRate
        self.resetRate = resetRate
        self.truncateRate = truncateRate
        self.prettyPrintRate = prettyPrintRate
    }
}
