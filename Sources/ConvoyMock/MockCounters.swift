/// A snapshot of what the mock server has seen and sent since it started.
///
/// Invariants: `tooManyRequests == responsesByStatus[429, default: 0]`; the sum of `responsesByStatus` is at most
/// `requests` (reset faults and responses still waiting out their latency are not counted yet). A response is
/// counted just before its bytes are handed to the socket, so a client that has read it sees it counted.
public struct MockCounters: Sendable, Equatable {
    /// Every complete HTTP request parsed, whatever its path or outcome.
    public var requests: Int
    /// Responses sent, by HTTP status (truncated responses count under their status line).
    public var responsesByStatus: [Int: Int]
    /// `429 Too Many Requests` responses sent.
    public var tooManyRequests: Int
    /// Per conversation id (lowercased, UUID-shaped ids only): every request for it, including ones answered 429/5xx.
    public var hitsByID: [String: Int]
    /// TCP connections accepted.
    public var connectionsAccepted: Int

    /// Creates a snapshot; all counts default to zero.
    public init(
        requests: Int = 0,
        responsesByStatus: [Int: Int] = [:],
        tooManyRequests: Int = 0,
        hitsByID: [String: Int] = [:],
        connectionsAccepted: Int = 0
    ) {
        self.requests = requests
        self.responsesByStatus = responsesByStatus
        self.tooManyRequests = tooManyRequests
        self.hitsByID = hitsByID
        self.connectionsAccepted = connectionsAccepted
    }
}
