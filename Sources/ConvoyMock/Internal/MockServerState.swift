import Synchronization

/// Which budget a request is offered to on arrival.
enum RateLimiter {
    /// Not limited (non-API paths, or no token endpoint).
    case unlimited
    /// The API's limit (``MockServerConfiguration/rateLimit``), shared by every `/api/v2/` route.
    case api
    /// The token endpoint's own limit (``MockOAuth/tokenRateLimit``).
    case token
}

/// The state shared between the event-loop thread and callers of ``MockAPIServer``: counters, the rate limiters and
/// the issued OAuth tokens. Everything lives behind one `Mutex`; the loop takes it about twice per request (arrival
/// and send), uncontended except while a caller reads counters, changes the limit or expires tokens.
final class MockServerState: Sendable {
    private struct Guarded {
        var budget: RateLimitBudget?
        var tokenBudget: RateLimitBudget?
        /// With ``MockOAuth/budgetPerClient``: each client's own budget, made on its first request.
        var clientBudgets: [String: RateLimitBudget] = [:]
        /// Issued access tokens: their expiry in nanoseconds since the server started, and their client.
        var tokens: [String: (expiry: Int64, client: String)] = [:]
        /// API answers still given before the rest are held (``MockAPIServer/holdAnswers(after:)``).
        var answersBeforeHold: Int?
        var counters = MockCounters()
    }

    /// The server's start instant on `CLOCK_MONOTONIC`; rate-limit windows and token lifetimes are measured from here.
    let startNanoseconds: UInt64
    private let externalLoad: Double
    private let guarded: Mutex<Guarded>

    init(
        rateLimit: MockRateLimit?, tokenRateLimit: MockRateLimit? = nil, externalLoad: Double, startNanoseconds: UInt64
    ) {
        self.startNanoseconds = startNanoseconds
        self.externalLoad = externalLoad
        guarded = Mutex(
            Guarded(
                budget: rateLimit.map { RateLimitBudget(limit: $0, externalLoad: externalLoad, now: 0) },
                tokenBudget: tokenRateLimit.map { RateLimitBudget(limit: $0, externalLoad: 0, now: 0) }))
    }

    /// Nanoseconds since the server started for a monotonic reading `now`.
    func elapsed(_ now: UInt64) -> Int64 {
        Int64(bitPattern: now &- startNanoseconds)
    }

    /// Records one parsed request (a hit for `conversationID` and a count for `route`, if any) and offers it to the
    /// `limiter`'s budget at monotonic instant `now`. Returns `nil` when no limit applies.
    /// `token` (a bearer token, when the request carries one) names the client whose budget an API
    /// request draws on when `budgetPerClient`.
    func arrive(
        conversationID: String?, route: String? = nil, limiter: RateLimiter, token: Substring? = nil,
        budgetPerClient: Bool = false, now: UInt64
    )
        -> RateLimitDecision?
    {
        let elapsed = elapsed(now)
        return guarded.withLock { state in
            state.counters.requests += 1
            if let conversationID { state.counters.hitsByID[conversationID, default: 0] += 1 }
            if let route { state.counters.requestsByPath[route, default: 0] += 1 }
            switch limiter {
            case .unlimited:
                return nil
            case .api:
                let client = token.flatMap { state.tokens[String($0)] }.map(\.client)
                if let client { state.counters.requestsByClient[client, default: 0] += 1 }
                if budgetPerClient, let client, let shared = state.budget {
                    if state.clientBudgets[client] == nil {
                        state.clientBudgets[client] = RateLimitBudget(
                            limit: shared.limit, externalLoad: externalLoad, now: elapsed)
                    }
                    return state.clientBudgets[client]?.admit(now: elapsed)
                }
                return state.budget?.admit(now: elapsed)
            case .token:
                state.counters.tokenRequests += 1
                return state.tokenBudget?.admit(now: elapsed)
            }
        }
    }

    /// Records the correlation id of an answer for `conversationID`'s full-conversation route.
    func noteCorrelation(_ correlationID: String, conversationID: String) {
        guarded.withLock { $0.counters.correlationIDsByID[conversationID, default: []].append(correlationID) }
    }

    /// Records a discovery page served (``MockCounters/pagesServed``).
    func notePage(_ key: String) {
        guarded.withLock { $0.counters.pagesServed[key, default: 0] += 1 }
    }

    /// Records a response with `status` about to be written.
    func recordResponse(status: Int) {
        guarded.withLock { state in
            state.counters.responsesByStatus[status, default: 0] += 1
            if status == 429 { state.counters.tooManyRequests += 1 }
        }
    }

    func recordConnection() {
        guarded.withLock { $0.counters.connectionsAccepted += 1 }
    }

    func counters() -> MockCounters {
        guarded.withLock { $0.counters }
    }

    /// Replaces the limit at monotonic instant `now` (see ``RateLimitBudget/update(to:now:)``); `nil` lifts it.
    func updateRateLimit(_ limit: MockRateLimit?, now: UInt64) {
        let elapsed = elapsed(now)
        guarded.withLock { state in
            guard let limit else {
                state.budget = nil
                return
            }
            if state.budget != nil {
                state.budget?.update(to: limit, now: elapsed)
            } else {
                state.budget = RateLimitBudget(limit: limit, externalLoad: externalLoad, now: elapsed)
            }
        }
    }

    // MARK: OAuth tokens

    /// See ``MockAPIServer/holdAnswers(after:)``.
    func holdAnswers(after count: Int?) {
        guarded.withLock { $0.answersBeforeHold = count.map { max(0, $0) } }
    }

    /// True when this API request's answer is to be held; counts it down or counts it as held.
    func holdsAnswer() -> Bool {
        guarded.withLock { state in
            guard let remaining = state.answersBeforeHold else { return false }
            guard remaining == 0 else {
                state.answersBeforeHold = remaining - 1
                return false
            }
            state.counters.held += 1
            return true
        }
    }

    /// Registers `token`, issued at monotonic instant `now`, as valid for `lifetime`, and counts it. Tokens that have
    /// expired are forgotten at the same time.
    func issue(token: String, client: String, lifetime: Duration, now: UInt64) {
        let elapsed = elapsed(now)
        let (expiry, overflow) = elapsed.addingReportingOverflow(lifetime.clampedNanoseconds)
        guarded.withLock { state in
            state.tokens = state.tokens.filter { $0.value.expiry > elapsed }
            state.tokens[token] = (overflow ? Int64.max : expiry, client)
            state.counters.tokensIssued += 1
        }
    }

    /// Whether `token` was issued by this server and is still valid at monotonic instant `now`; a `false` answer is
    /// counted as ``MockCounters/unauthorized``.
    func authorize(token: Substring?, now: UInt64) -> Bool {
        let elapsed = elapsed(now)
        return guarded.withLock { state in
            let valid = token.flatMap { state.tokens[String($0)] }.map { elapsed < $0.expiry } ?? false
            if !valid { state.counters.unauthorized += 1 }
            return valid
        }
    }

    /// Makes every token issued so far invalid.
    func expireAllTokens() {
        guarded.withLock { $0.tokens.removeAll() }
    }
}
