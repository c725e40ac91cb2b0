/// Everything that shapes a ``MockAPIServer``'s behaviour. All randomness derives from ``seed``.
public struct MockServerConfiguration: Sendable {
    /// IPv4 address to bind; keep the loopback default outside experiments.
    public var host: String = "127.0.0.1"
    /// TCP port to bind; 0 lets the kernel choose (read it back from ``MockAPIServer/port``).
    public var port: UInt16 = 0
    /// The server-side limit on `/api/v2/` requests; `nil` means unlimited (and no budget headers).
    public var rateLimit: MockRateLimit? = nil
    /// Which remaining-budget headers to send when ``rateLimit`` is set.
    public var headerFamily: MockHeaderFamily = .genesys
    /// Injected response latency.
    public var latency: MockLatency = .none
    /// Injected faults.
    public var faults: MockFaults = .none
    /// Share, in thousandths, of conversation ids that answer 404: exactly those with
    /// `MockConversationStore.exists(id, missingPerMille:) == false` (a stable hash of the id, not random).
    public var missingPerMille: Int = 0
    /// Seeds the SplitMix64 generator used for latency, faults and correlation ids.
    public var seed: UInt64 = 1
    /// Share (`0...1`) of the budget silently eaten by "another client on the same token": a fixed window starts
    /// each window with `floor(x · limit)` already used; a token bucket loses `x · refillPerSecond` tokens per second.
    public var externalLoadPerWindow: Double = 0

    /// Creates a configuration; every parameter has the default documented on its property.
    public init(
        host: String = "127.0.0.1",
        port: UInt16 = 0,
        rateLimit: MockRateLimit? = nil,
        headerFamily: MockHeaderFamily = .genesys,
        latency: MockLatency = .none,
        faults: MockFaults = .none,
        missingPerMille: Int = 0,
        seed: UInt64 = 1,
        externalLoadPerWindow: Double = 0
    ) {
        self.host = host
        self.port = port
        self.rateLimit = rateLimit
        self.headerFamily = headerFamily
        self.latency = latency
        self.faults = faults
        self.missingPerMille = missingPerMille
        self.seed = seed
        self.externalLoadPerWindow = externalLoadPerWindow
    }
}
