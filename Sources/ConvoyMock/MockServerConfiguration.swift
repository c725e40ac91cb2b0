import Foundation

/// Everything that shapes a ``MockAPIServer``'s behaviour. All randomness derives from ``seed`` (except the opaque
/// OAuth access tokens, which come from the system generator so they cannot be guessed, and the salt of correlation
/// ids, which makes them differ from run to run as Genesys's do).
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
    /// Applies to every per-conversation endpoint and to analytics job results alike.
    public var missingPerMille: Int = 0
    /// Seeds the SplitMix64 generator used for latency, faults and correlation ids (salted per server, so those still
    /// differ between runs) and, separately, job ids.
    public var seed: UInt64 = 1
    /// Share (`0...1`) of the budget silently eaten by "another client on the same token": a fixed window starts
    /// each window with `floor(x · limit)` already used; a token bucket loses `x · refillPerSecond` tokens per second.
    public var externalLoadPerWindow: Double = 0
    /// OAuth client credentials; `nil` (the default) requires no authentication and serves no token endpoint
    /// (`/oauth/token` is then an unknown path). See ``MockOAuth``.
    public var oauth: MockOAuth? = nil
    /// Overrides how many messages every messaging conversation has on the messaging endpoints (clamped to
    /// `0...1_000_000`); `nil` keeps each conversation's own deterministic count (see
    /// ``MockConversationStore/messageIDs(conversationID:messageCount:)``).
    public var messagesPerConversation: Int? = nil
    /// How long an analytics job takes: a status poll reports `PENDING` (after the first poll's `QUEUED`) until this
    /// much time has passed since submission, then `FULFILLED`; results answer `400` before that.
    public var jobDelay: Duration = .milliseconds(500)
    /// How many conversations exist for analytics jobs and the synchronous query: the first `universeSize` ids of
    /// `MockConversationStore.sampleIDs(count:seed: 42)` (clamped to `0...1_000_000`). See
    /// ``MockConversationStore/conversations(inInterval:universeSize:missingPerMille:mediaType:divisionID:availableBefore:)``.
    public var universeSize: Int = 2000
    /// The analytics data availability cut-off (rounded to the nearest millisecond): analytics jobs only find
    /// conversations that start strictly before it, so a job over an interval straddling it silently misses the
    /// newer ones, as Genesys's do. `GET /api/v2/analytics/conversations/details/jobs/availability` answers
    /// `{"dataAvailabilityDate":…}` with it. The synchronous query is not bound by it. `nil` (the default): every
    /// conversation is available, and the availability endpoint answers the current wall-clock time.
    public var analyticsAvailability: Date? = nil
    /// How many analytics jobs fail: the first `failingJobs` jobs submitted (with a valid body) report `QUEUED` on
    /// their first status poll and `FAILED` (with an `errorMessage`) on every later one, and their results endpoint
    /// answers `400 bad.request`; every later submission behaves normally. 0 (the default): none fail.
    public var failingJobs: Int = 0
    /// How deep the synchronous query (`POST /api/v2/analytics/conversations/details/query`) may page: a request
    /// whose `pageNumber × pageSize` exceeds it answers `400` (its `totalHits` would still count every match).
    public var queryResultCap: Int = 100_000
    /// Route names (as in ``MockCounters/requestsByPath``; see ``MockCounters/routeNames``) answered `403
    /// not.authorized`, as for a client missing the permission, after rate limiting, authentication and faults
    /// like any other answer (and counted in ``MockCounters/requestsByPath``); only a wrong method (`405`) comes
    /// first, so a forbidden route answers `403` even for a malformed or missing id. The body does not name the
    /// permission. `"token"` is never forbidden. Empty (the default): nothing is.
    public var forbiddenRoutes: Set<String> = []
    /// Lies the rate-limit headers tell (none by default). See ``MockLies``.
    public var lies = MockLies()
    /// The gateway form of a ``MockRateLimit/leakyBucket(ratePerSecond:burst:)`` (gcra) 429: no `Retry-After` and the
    /// code `too.many.requests`, as nginx-style gateways answer. `false` (the default): the gcra's 429s take
    /// Genesys's normalized form like every other limiter's, `Retry-After` (the whole seconds, at least 1, until the
    /// bucket admits a request again) and `too.many.requests.retry.after`. The queueing leaky bucket
    /// (``MockRateLimit/leakyQueue(ratePerSecond:burst:)``) always answers the gateway form.
    public var bareBucket429s = false
    /// How long a fulfilled analytics job's results are kept (its status's `expirationDate` is this long after its
    /// `completionDate`): from then on the status answers `EXPIRED` and the results `404`, so a client must submit
    /// the job again. One day by default.
    public var jobResultLifetime: Duration = .seconds(86_400)
    /// Whether `200` answers are a mix of framings, as Genesys's are: every second `200` the server plans (the 2nd,
    /// 4th, …) goes `Transfer-Encoding: chunked`, in chunks of 2,048 bytes, the others with `Content-Length` (so
    /// does a body the truncate fault cuts). `false`: every answer has a `Content-Length`.
    public var chunked200s = true

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
        externalLoadPerWindow: Double = 0,
        oauth: MockOAuth? = nil,
        messagesPerConversation: Int? = nil,
        jobDelay: Duration = .milliseconds(500),
        universeSize: Int = 2000,
        analyticsAvailability: Date? = nil,
        failingJobs: Int = 0,
        queryResultCap: Int = 100_000,
        forbiddenRoutes: Set<String> = []
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
        self.oauth = oauth
        self.messagesPerConversation = messagesPerConversation
        self.jobDelay = jobDelay
        self.universeSize = universeSize
        self.analyticsAvailability = analyticsAvailability
        self.failingJobs = failingJobs
        self.queryResultCap = queryResultCap
        self.forbiddenRoutes = forbiddenRoutes
    }
}
