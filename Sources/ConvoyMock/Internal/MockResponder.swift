import Foundation

/// A response decided at request arrival, waiting for its send time.
struct PlannedResponse {
    enum Disposition: Equatable {
        /// Send all bytes; keep the connection open afterwards only if `keepAlive`.
        case send(keepAlive: Bool)
        /// Send only the first `byteCount` bytes (headers plus part of the body), then close.
        case truncate(byteCount: Int)
        /// Send nothing; close with a TCP RST.
        case reset
    }

    /// The status line's code; `nil` for a reset.
    var status: Int?
    /// The complete response: status line, headers and body.
    var bytes: [UInt8]
    var disposition: Disposition
    /// Injected latency: the response leaves no earlier than arrival + delay.
    var delayNanoseconds: Int64
}

/// Turns requests into responses: rate limiting first, then authentication, then faults, then routing. Lives on the
/// event-loop thread, so its own state (document cache, analytics jobs) needs no lock; what callers of
/// ``MockAPIServer`` can see or change lives in ``MockServerState``.
///
/// The endpoints themselves are in the extensions `MockResponder+Conversations`, `MockResponder+AnalyticsJobs`,
/// `MockResponder+AnalyticsQuery` and `MockResponder+OAuth`.
struct MockResponder {
    /// A status and a compact JSON body.
    struct Reply {
        var status: Int
        var body: [UInt8]
    }

    /// A Genesys-style error an endpoint answers with: `{"message","code","status","contextId",…}`.
    struct EndpointError: Error {
        var status: Int
        var code: String
        var message: String

        static func badRequest(_ message: String) -> EndpointError {
            EndpointError(status: 400, code: "bad.request", message: message)
        }

        static func notFound(_ message: String) -> EndpointError {
            EndpointError(status: 404, code: "not.found", message: message)
        }

        /// What Genesys answers a client that lacks a permission; like Genesys's, it does not name the permission.
        static let forbidden = EndpointError(
            status: 403, code: "not.authorized", message: "You are not authorized to perform the requested action.")
    }

    static let maximumCachedDocuments = 8192
    /// How long a held answer waits (``MockAPIServer/holdAnswers(after:)``): longer than any test.
    static let heldNanoseconds: Int64 = 600_000_000_000

    let configuration: MockServerConfiguration
    let state: MockServerState
    var random: SplitMix64
    /// Mixed into every correlation id: drawn from the system generator, so ids differ from run to run.
    private let correlationSalt: (high: UInt64, low: UInt64)
    /// Compact documents by lowercase id; documents are deterministic, so caching only saves work.
    var documentCache: [String: [UInt8]] = [:]
    var jobs: AnalyticsJobStore
    /// Built on the first job submission or query.
    var universe: ConversationUniverse?
    /// `200` answers planned so far, which alternate between `Content-Length` and chunked framing.
    private var answered200s = 0
    /// The size of the chunks of a chunked body (the last one may be shorter).
    static let chunkSize = 2048

    init(configuration: MockServerConfiguration, state: MockServerState) {
        self.configuration = configuration
        self.state = state
        random = SplitMix64(seed: configuration.seed)
        var system = SystemRandomNumberGenerator()
        correlationSalt = (system.next(), system.next())
        jobs = AnalyticsJobStore(
            seed: configuration.seed, delay: configuration.jobDelay, failing: configuration.failingJobs,
            lifetime: configuration.jobResultLifetime)
    }

    /// Decides the response to `request`, which arrived at monotonic instant `now`.
    ///
    /// Order: count the request and offer it to its rate limit (`/api/v2/` → the API's, `/oauth/token` → the token
    /// endpoint's) → `429`; for `/api/v2/` with OAuth configured, check the bearer token → `401`; faults (never on
    /// the token endpoint); then the route's handler.
    mutating func respond(to request: HTTPRequest, now: UInt64) -> PlannedResponse {
        let path = request.path
        var route = MockRoute(path: path)
        if route == .token, configuration.oauth == nil { route = .unknown }
        let isAPI = path.hasPrefix("/api/v2/")
        var conversationID: String?
        if case .conversation(let segment) = route, UUIDFormatter.isUUID(segment) {
            conversationID = segment.lowercased()
        }
        let limiter: RateLimiter = isAPI ? .api : route == .token ? .token : .unlimited
        let decision = state.arrive(
            conversationID: conversationID, route: route.counterName, limiter: limiter,
            token: Self.bearerToken(request.authorization),
            budgetPerClient: configuration.oauth?.budgetPerClient ?? false,
            now: now)

        let correlationID = nextCorrelationID()
        if let conversationID { state.noteCorrelation(correlationID, conversationID: conversationID) }
        var headers: [(name: String, value: String)] = [
            ("Date", HTTPDate.now()), ("ININ-Correlation-Id", correlationID),
        ]
        if let decision, limiter == .api {
            var told = decision.snapshot
            told.remaining = max(0, told.remaining + configuration.lies.remainingOffset)
            told.used = max(0, told.limit - told.remaining)  // families that send the count, as Genesys does
            headers += configuration.headerFamily.budgetHeaders(
                for: told, wallClockSeconds: MonotonicClock.wallClockSeconds())
        }
        // A queueing limiter holds an admitted request before it is served.
        let held = isAPI && state.holdsAnswer()
        let delay =
            held
            ? Self.heldNanoseconds
            : configuration.latency.sampleNanoseconds(using: &random) + (decision?.queueNanoseconds ?? 0)
        func planned(_ reply: Reply, chunked: Bool = false) -> PlannedResponse {
            PlannedResponse(
                status: reply.status,
                bytes: Self.serialize(
                    status: reply.status, headers: headers, body: reply.body, keepAlive: request.keepAlive,
                    chunked: chunked),
                disposition: .send(keepAlive: request.keepAlive), delayNanoseconds: delay)
        }

        if let decision, !decision.admitted {
            var retryAfter = decision.retryAfterSeconds
            if retryAfter == nil, decision.untilAdmissionNanoseconds > 0, !configuration.bareBucket429s {
                retryAfter = max(1, ceilSeconds(decision.untilAdmissionNanoseconds))
            }
            guard let seconds = retryAfter else {
                return planned(
                    Self.failure(
                        EndpointError(status: 429, code: "too.many.requests", message: "Rate limit exceeded"),
                        contextID: correlationID))
            }
            let told =
                configuration.lies.retryAfterFactor == 1
                ? seconds : Int64((Double(seconds) * configuration.lies.retryAfterFactor).rounded(.down))
            headers.append(("Retry-After", String(told)))
            return planned(
                Self.failure(
                    EndpointError(
                        status: 429, code: "too.many.requests.retry.after",
                        message: "Rate limit exceeded the maximum. Retry the request in [\(seconds)] seconds"
                    ), contextID: correlationID))
        }
        if isAPI, configuration.oauth != nil {
            let token = Self.bearerToken(request.authorization)
            if !state.authorize(token: token, now: now) {
                let message =
                    token == nil
                    ? "No authentication bearer token specified in authorization header." : "Invalid login credentials."
                return planned(
                    Self.failure(
                        EndpointError(status: 401, code: "authentication.required", message: message),
                        contextID: correlationID))
            }
        }
        if route == .token { return planned(tokenReply(to: request, now: now, contextID: correlationID)) }

        let faults = configuration.faults
        if random.chance(faults.resetRate) {
            return PlannedResponse(status: nil, bytes: [], disposition: .reset, delayNanoseconds: delay)
        }

        let reply: Reply
        if random.chance(faults.serverErrorRate) {
            let status = [500, 502, 503][random.nextInt(3)]
            let (message, code) =
                switch status {
                case 500: ("The server encountered an unexpected error", "internal.server.error")
                case 502: ("The upstream service returned an invalid response", "bad.gateway")
                default: ("The service is currently unavailable", "service.unavailable")
                }
            reply = Self.failure(EndpointError(status: status, code: code, message: message), contextID: correlationID)
        } else {
            do throws(EndpointError) {
                reply = try dispatch(route, request: request, now: now)
            } catch {
                reply = Self.failure(error, contextID: correlationID)
            }
        }

        if reply.status == 200, !held, let page = Self.pageKey(route, request: request) { state.notePage(page) }
        // Every second 200 goes chunked, as real 200s are a mix; a body the truncate fault cuts keeps its length.
        let truncated = random.chance(faults.truncateRate)
        var chunked = false
        if reply.status == 200, configuration.chunked200s, !truncated {
            answered200s += 1
            chunked = answered200s % 2 == 0
        }
        let response = planned(reply, chunked: chunked)
        if truncated {
            let headLength = response.bytes.count - reply.body.count
            return PlannedResponse(
                status: reply.status, bytes: response.bytes,
                disposition: .truncate(byteCount: headLength + reply.body.count / 2), delayNanoseconds: delay)
        }
        return response
    }

    /// What identifies a discovery page (``MockCounters/pagesServed``); nil for other requests.
    private static func pageKey(_ route: MockRoute, request: HTTPRequest) -> String? {
        switch route {
        case .analyticsQuery:
            guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any] else {
                return nil
            }
            let page = (object["paging"] as? [String: Any])?["pageNumber"] as? Int ?? 1
            return "query \(object["interval"] as? String ?? "") page \(page)"
        case .jobResults(let job):
            let cursor = QueryString.value("cursor", in: QueryString.parameters(ofTarget: request.target))
            return "results \(job.lowercased()) \(cursor ?? "start")"
        default:
            return nil
        }
    }

    /// Dispatches an admitted, authenticated, fault-free request to its endpoint: unknown paths `404`, then a wrong
    /// method `405`, then ``MockServerConfiguration/forbiddenRoutes`` `403`.
    private mutating func dispatch(
        _ route: MockRoute, request: HTTPRequest, now: UInt64
    ) throws(EndpointError)
        -> Reply
    {
        if route == .unknown {
            throw .notFound("No resource matches the path '\(request.path)'")
        }
        guard request.method == route.method else {
            throw EndpointError(
                status: 405, code: "method.not.allowed",
                message: "Method \(request.method) is not allowed on this resource")
        }
        if let name = route.counterName, configuration.forbiddenRoutes.contains(name) { throw .forbidden }
        switch route {
        case .conversation(let segment): return try conversation(segment)
        case .analytics(let segment): return try analytics(segment)
        case .analyticsBatch: return try analyticsBatch(target: request.target)
        case .analyticsQuery: return try analyticsQuery(body: request.body)
        case .recordingMetadata(let segment): return try recordingMetadata(segment)
        case .messagingConversation(let segment): return try messagingConversation(segment)
        case .messagesBulk(let segment): return try messagesBulk(segment, request: request)
        case .jobsSubmit: return try submitJob(body: request.body, now: now)
        case .jobsAvailability: return jobsAvailability()
        case .jobStatus(let segment): return try jobStatus(segment, now: now)
        case .jobResults(let segment): return try jobResults(segment, target: request.target, now: now)
        case .token, .unknown: preconditionFailure("handled before routing")
        }
    }

    /// A new `ININ-Correlation-Id`, unique within the run and across runs, as Genesys's are (records cite them as
    /// provenance). Drawn from ``random`` like the seed's other draws, so latency and faults keep their sequence, and
    /// salted per server.
    private mutating func nextCorrelationID() -> String {
        UUIDFormatter.string(high: random.next() ^ correlationSalt.high, low: random.next() ^ correlationSalt.low)
    }

    /// The answer to bytes that are not an acceptable HTTP request: an error, then the connection closes.
    mutating func respondToInvalidRequest(status: Int, message: String) -> PlannedResponse {
        _ = state.arrive(conversationID: nil, limiter: .unlimited, now: 0)
        let correlationID = nextCorrelationID()
        let code = status == 400 ? "bad.request" : status == 413 ? "request.entity.too.large" : "invalid.request"
        let body = Self.errorBody(message: message, code: code, status: status, contextID: correlationID)
        return PlannedResponse(
            status: status,
            bytes: Self.serialize(
                status: status, headers: [("Date", HTTPDate.now()), ("ININ-Correlation-Id", correlationID)], body: body,
                keepAlive: false),
            disposition: .send(keepAlive: false), delayNanoseconds: 0)
    }

    static func failure(_ error: EndpointError, contextID: String) -> Reply {
        Reply(
            status: error.status,
            body: errorBody(message: error.message, code: error.code, status: error.status, contextID: contextID))
    }

    /// Genesys's error shape: `{"message","code","status","contextId","details":[],"errors":[]}`, compact.
    static func errorBody(message: String, code: String, status: Int, contextID: String) -> [UInt8] {
        JSONValue.object([
            ("message", .string(message)),
            ("code", .string(code)),
            ("status", .int(status)),
            ("contextId", .string(contextID)),
            ("details", .array([])),
            ("errors", .array([])),
        ]).compactBytes()
    }

    /// Status line, the fixed headers (`Content-Type`, `Content-Length` or `Transfer-Encoding: chunked`,
    /// `Connection`), `headers`, blank line, body: as it is, or `chunked` in chunks of ``chunkSize`` bytes and a last
    /// empty one.
    static func serialize(
        status: Int, headers: [(name: String, value: String)], body: [UInt8], keepAlive: Bool, chunked: Bool = false
    )
        -> [UInt8]
    {
        var head = "HTTP/1.1 \(status) \(reasonPhrase(status))\r\n"
        head += "Content-Type: application/json\r\n"
        head += chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: \(body.count)\r\n"
        head += keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n"
        for header in headers { head += "\(header.name): \(header.value)\r\n" }
        head += "\r\n"
        var bytes: [UInt8] = []
        bytes.reserveCapacity(head.utf8.count + body.count + (chunked ? 16 + body.count / chunkSize * 8 : 0))
        bytes.append(contentsOf: head.utf8)
        guard chunked else {
            bytes.append(contentsOf: body)
            return bytes
        }
        for start in stride(from: 0, to: body.count, by: chunkSize) {
            let end = min(body.count, start + chunkSize)
            bytes.append(contentsOf: String(end - start, radix: 16).utf8)
            bytes.append(contentsOf: [13, 10])
            bytes.append(contentsOf: body[start..<end])
            bytes.append(contentsOf: [13, 10])
        }
        bytes.append(contentsOf: Array("0\r\n\r\n".utf8))
        return bytes
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 202: "Accepted"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 413: "Content Too Large"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        default: "Unknown"
        }
    }
}
