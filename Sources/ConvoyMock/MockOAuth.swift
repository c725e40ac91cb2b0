/// OAuth client-credentials protection for a ``MockAPIServer`` (``MockServerConfiguration/oauth``).
///
/// With it set, the server serves `POST /oauth/token` (Genesys's login endpoint, on the same host and port as the
/// API) and every `/api/v2/` request must carry `Authorization: Bearer TOKEN` with a token this server issued and
/// that has not expired on the monotonic clock; otherwise it answers `401` with code `authentication.required`
/// (after the rate-limit check, so a `429` still wins).
///
/// The token endpoint expects `Authorization: Basic base64(clientId:clientSecret)`,
/// `Content-Type: application/x-www-form-urlencoded` and the body `grant_type=client_credentials`, and answers:
/// - `200 {"access_token":"…","token_type":"bearer","expires_in":N}`, `N` = ``tokenLifetime`` in seconds, exactly
///   (a whole number when it is one, else a decimal; 0 for a lifetime of 0 or less), the time after which the
///   token is refused;
/// - `401 {"error":"invalid_client","description":"authentication failed"}` for missing, malformed or wrong
///   credentials (checked first);
/// - `400 {"error":"invalid_request","description":"…"}` for another content type;
/// - `400 {"error":"unsupported_grant_type"}` for a missing or different `grant_type`;
/// - `405` for another method;
/// - `429` with `Retry-After` (whole seconds, at least 1) and Genesys's `too.many.requests.retry.after` body when
///   ``tokenRateLimit`` is exceeded (token requests never count against the API's limit, nor it against theirs).
///
/// The token endpoint gets latency but never faults, and sends no budget headers.
public struct MockOAuth: Sendable, Equatable {
    /// The client id expected in the Basic credentials (compared exactly).
    public var clientId: String
    /// The client secret expected in the Basic credentials (compared exactly).
    public var clientSecret: String
    /// How long an issued token stays valid, from the instant it was issued. Durations of 0 or less issue tokens
    /// that are already expired.
    public var tokenLifetime: Duration
    /// The token endpoint's own limit (`nil`: unlimited); see ``MockRateLimit`` for the semantics.
    public var tokenRateLimit: MockRateLimit?
    /// More clients the token endpoint accepts, id → secret (several machines, a client each).
    public var otherClients: [String: String] = [:]
    /// When true, each client's tokens draw on a budget of their own (a copy of the server's
    /// ``MockServerConfiguration/rateLimit``), as Genesys limits each OAuth client; when false,
    /// every client shares one budget.
    public var budgetPerClient = false

    /// Creates OAuth settings; Genesys's default token lifetime is 24 hours.
    public init(
        clientId: String, clientSecret: String, tokenLifetime: Duration = .seconds(86_400),
        tokenRateLimit: MockRateLimit? = nil
    ) {
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.tokenLifetime = tokenLifetime
        self.tokenRateLimit = tokenRateLimit
    }
}
