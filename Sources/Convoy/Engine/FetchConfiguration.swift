import Foundation

/// How a fetch run behaves. Every field has a default that suits Genesys Cloud.
public struct FetchConfiguration: Sendable {
    /// Where the API lives, e.g. `https://api.mypurecloud.ie`; paths are appended to it.
    public var apiBase: URL
    /// Requests in flight at most. Independent of the rate: the limiter decides when a request may
    /// go, this bounds how many may be waiting for an answer at once. Default 16.
    public var concurrency: Int
    /// Requests per id before it is written to the errors file. Default 8.
    public var maxAttempts: Int
    /// Waits before retrying 5xx answers and transport errors.
    public var backoff: Backoff
    /// Tuning of the shared rate limiter.
    public var limiter: RateLimiterConfiguration
    /// The bounds of every exchange: an answer's size and a request's deadline. The engine does not
    /// send itself; it is what a transport for the run is built with (`DefaultTransport`).
    public var transportLimits = HTTPLimits()
    /// Sent as `User-Agent`.
    public var userAgent: String
    /// When set, only the ids of this shard are fetched; the others are counted and left alone.
    public var shard: Shard?
    /// What to fetch per conversation, in record order. Default: the conversation document.
    public var parts: [ConversationPart] = [.conversation]
    /// Conversations whose analytics part goes in one `GET …/analytics/conversations/details?id=…`
    /// request (see ``AnalyticsBatch``); 1 asks the per-id endpoint for each. Default 100. A batch
    /// the server refuses as too large (400, 413, 414) halves it for the rest of the run.
    public var analyticsBatchSize = AnalyticsBatch.defaultSize
    /// Ids the input holds, when known (an ids file's lines), so that the limiter can spend the
    /// last window at once (``RateLimiterState/expect(requests:now:)``); nil for standard input and
    /// discovery, whose work is unbounded until they end.
    public var expectedIDs: Int?
    /// Answers of 403 on one part, with none of its answers a success, that stop the run: the OAuth
    /// client lacks the part's permission (``ConversationPart/permission``), and going on would only
    /// write one error per id. Default 25.
    public var forbiddenLimit = 25

    /// Requests a conversation costs at least: one per part, `1 / analyticsBatchSize` for
    /// batched analytics (messages add one bulk request per 1,000 message ids on top).
    public var requestsPerID: Double {
        parts.reduce(0) { total, part in
            total + (part == .analytics ? 1 / Double(max(analyticsBatchSize, 1)) : 1)
        }
    }

    public init(
        apiBase: URL, concurrency: Int = 16, maxAttempts: Int = 8, backoff: Backoff = Backoff(),
        limiter: RateLimiterConfiguration = RateLimiterConfiguration(), userAgent: String = "convoy/0.1"
    ) {
        self.apiBase = apiBase
        self.concurrency = concurrency
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.limiter = limiter
        self.userAgent = userAgent
    }
}
