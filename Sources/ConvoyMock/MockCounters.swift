/// A snapshot of what the mock server has seen and sent since it started.
///
/// Invariants: `tooManyRequests == responsesByStatus[429, default: 0]`; the sum of `responsesByStatus` is at most
/// `requests` (reset faults and responses still waiting out their latency are not counted yet); the sum of
/// `requestsByPath` is at most `requests`; `requestsByPath["token", default: 0] == tokenRequests`;
/// `tokensIssued <= tokenRequests`. A response is counted in `responsesByStatus` just before its bytes are handed to
/// the socket, so a client that has read it sees it counted; `requests`, `hitsByID`, `requestsByPath`,
/// `tokenRequests`, `tokensIssued` and `unauthorized` are counted when the request is decided, before any latency.
public struct MockCounters: Sendable, Equatable {
    /// Every complete HTTP request parsed, whatever its path or outcome.
    public var requests: Int
    /// Responses sent, by HTTP status (truncated responses count under their status line).
    public var responsesByStatus: [Int: Int]
    /// `429 Too Many Requests` responses sent (API and token endpoint alike).
    public var tooManyRequests: Int
    /// Per conversation id (lowercased, UUID-shaped ids only): every `/api/v2/conversations/{id}` request for it
    /// (the full-conversation route only), including ones answered 401/429/5xx.
    public var hitsByID: [String: Int]
    /// Per conversation id, like ``hitsByID``: the `ININ-Correlation-Id` of every answer on its
    /// full-conversation route, in order.
    public var correlationIDsByID: [String: [String]] = [:]
    /// TCP connections accepted.
    public var connectionsAccepted: Int
    /// Requests on `/oauth/token` (any method and outcome, 429s included; 0 while ``MockServerConfiguration/oauth``
    /// is `nil`).
    public var tokenRequests: Int
    /// Access tokens issued (`200` answers of the token endpoint).
    public var tokensIssued: Int
    /// `401` answers to `/api/v2/` requests: no, an unknown or an expired bearer token.
    public var unauthorized: Int
    /// Requests per recognised route, whatever their outcome (429s, 401s, 403s, 404s and faults included):
    /// `"conversation"`, `"analytics"`, `"analyticsBatch"`, `"analyticsQuery"`, `"recordingmetadata"`, `"messages"`,
    /// `"messagesBulk"`, `"jobsSubmit"`, `"jobsAvailability"`, `"jobsStatus"`, `"jobsResults"` and `"token"` (exactly
    /// ``routeNames``). Unrecognised paths are not counted here.
    public var requestsByPath: [String: Int]
    /// `/api/v2/` requests per OAuth client id of their bearer token (a valid one), whatever their outcome.
    public var requestsByClient: [String: Int] = [:]
    /// `/api/v2/` requests whose answer was held (``MockAPIServer/holdAnswers(after:)``).
    public var held = 0
    /// Discovery pages answered `200` and not held, by page: `query START/END page N` (the query's
    /// interval and page number) and `results JOB_ID CURSOR` (`start` for a job's first page). A
    /// client that reads no page twice leaves every count at 1.
    public var pagesServed: [String: Int] = [:]

    /// Every route name ``requestsByPath`` can hold (and ``MockServerConfiguration/forbiddenRoutes`` can name).
    public static let routeNames: Set<String> = [
        "conversation", "analytics", "analyticsBatch", "analyticsQuery", "recordingmetadata", "messages",
        "messagesBulk", "jobsSubmit", "jobsAvailability", "jobsStatus", "jobsResults", "token",
    ]

    /// Creates a snapshot; all counts default to zero.
    public init(
        requests: Int = 0,
        responsesByStatus: [Int: Int] = [:],
        tooManyRequests: Int = 0,
        hitsByID: [String: Int] = [:],
        connectionsAccepted: Int = 0,
        tokenRequests: Int = 0,
        tokensIssued: Int = 0,
        unauthorized: Int = 0,
        requestsByPath: [String: Int] = [:]
    ) {
        self.requests = requests
        self.responsesByStatus = responsesByStatus
        self.tooManyRequests = tooManyRequests
        self.hitsByID = hitsByID
        self.connectionsAccepted = connectionsAccepted
        self.tokenRequests = tokenRequests
        self.tokensIssued = tokensIssued
        self.unauthorized = unauthorized
        self.requestsByPath = requestsByPath
    }
}
