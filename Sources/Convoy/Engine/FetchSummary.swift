/// What a run did, for the final report.
public struct FetchSummary: Sendable, Equatable {
    /// Input records read: ids (repeats and other shards' included) and lines that were not ids;
    /// blank lines and comments are not records.
    public var inputRecords = 0
    /// True once the input was read to its end.
    public var inputComplete = false
    /// Ids written to the output file by this run.
    public var fetched = 0
    /// Ids written to the errors file by this run (bad input included).
    public var failed = 0
    /// Input lines that were not conversation ids (counted in `failed` too).
    public var invalid = 0
    /// Ids skipped because an earlier run already recorded them.
    public var skipped = 0
    /// Repeated ids in the input, fetched once.
    public var duplicates = 0
    /// Ids that belong to other shards (`--shard`), left for the other machines.
    public var otherShards = 0
    /// HTTP requests sent, retries included.
    public var requests = 0
    /// Requests that were retries.
    public var retries = 0
    /// 429 answers received.
    public var throttled = 0
    /// Analytics batch requests sent (``FetchConfiguration/analyticsBatchSize``), retries included;
    /// they are counted in `requests` too.
    public var analyticsBatches = 0
    /// The batch size the run ended with: smaller than configured when the server refused a batch
    /// as too large (`analyticsBatchRefusal` tells how).
    public var analyticsBatchSize = 0
    /// The first refusal that cut the batch size, e.g. `HTTP 400 for 100 ids`.
    public var analyticsBatchRefusal: String?
    /// Ids in flight or queued when the run was interrupted, to be fetched by a re-run.
    public var abandoned = 0
    /// Seconds from start to finish.
    public var wallSeconds = 0.0
    /// True when the run stopped early (signal or fatal error): a re-run resumes it.
    public var interrupted = false
    /// What the limiter learned.
    public var limiter: RateLimiterSnapshot?

    public init() {}

    /// Fetched conversations per second of wall time.
    public var rate: Double { wallSeconds > 0 ? Double(fetched) / wallSeconds : 0 }
}
