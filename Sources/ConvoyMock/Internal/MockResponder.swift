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

/// Turns requests into responses: rate limiting first, then faults, then routing. Lives on the event-loop thread.
struct MockResponder {
    private static let conversationsPrefix = "/api/v2/conversations/"
    private static let maximumCachedDocuments = 8192

    private let configuration: MockServerConfiguration
    private let state: MockServerState
    private var random: SplitMix64
    /// Compact documents by lowercase id; documents are deterministic, so caching only saves work.
    private var documentCache: [String: [UInt8]] = [:]

    init(configuration: MockServerConfiguration, state: MockServerState) {
        self.configuration = configuration
        self.state = state
        random = SplitMix64(seed: configuration.seed)
    }

    /// Decides the response to `request`, which arrived at monotonic instant `now`.
    mutating func respond(to request: HTTPRequest, now: UInt64) -> PlannedResponse {
        let path = request.path
        var segment: Substring?
        if path.hasPrefix(Self.conversationsPrefix) {
            let rest = path.dropFirst(Self.conversationsPrefix.count)
            if !rest.isEmpty, !rest.contains("/") { segment = rest }
        }
        let conversationID = segment.flatMap { UUIDFormatter.isUUID($0) ? $0.lowercased() : nil }
        let decision = state.arrive(
            conversationID: conversationID, rateLimited: path.hasPrefix("/api/v2/"), now: now)

        let correlationID = random.uuidString()
        var headers: [(name: String, value: String)] = [("ININ-Correlation-Id", correlationID)]
        if let decision {
            headers += configuration.headerFamily.budgetHeaders(
                for: decision.snapshot, wallClockSeconds: MonotonicClock.wallClockSeconds())
        }
        let delay = configuration.latency.sampleNanoseconds(using: &random)

        if let decision, !decision.admitted {
            headers.append(("Retry-After", String(decision.retryAfterSeconds)))
            let body = Self.errorBody(
                message:
                    "Rate limit exceeded the maximum. Retry the request in [\(decision.retryAfterSeconds)] seconds",
                code: "too.many.requests.retry.after", status: 429, contextID: correlationID)
            return PlannedResponse(
                status: 429,
                bytes: Self.serialize(status: 429, headers: headers, body: body, keepAlive: request.keepAlive),
                disposition: .send(keepAlive: request.keepAlive), delayNanoseconds: delay)
        }

        let faults = configuration.faults
        if random.chance(faults.resetRate) {
            return PlannedResponse(status: nil, bytes: [], disposition: .reset, delayNanoseconds: delay)
        }

        let status: Int
        let body: [UInt8]
        if random.chance(faults.serverErrorRate) {
            status = [500, 502, 503][random.nextInt(3)]
            let (message, code) =
                switch status {
                case 500: ("The server encountered an unexpected error", "internal.server.error")
                case 502: ("The upstream service returned an invalid response", "bad.gateway")
                default: ("The service is currently unavailable", "service.unavailable")
                }
            body = Self.errorBody(message: message, code: code, status: status, contextID: correlationID)
        } else if let segment {
            if request.method != "GET" {
                status = 405
                body = Self.errorBody(
                    message: "Method \(request.method) is not allowed on this resource", code: "method.not.allowed",
                    status: status, contextID: correlationID)
            } else if let conversationID {
                if MockConversationStore.exists(conversationID, missingPerMille: configuration.missingPerMille) {
                    status = 200
                    body =
                        random.chance(faults.prettyPrintRate)
                        ? MockConversationStore.documentBytes(id: conversationID, pretty: true)
                        : document(id: conversationID)
                } else {
                    status = 404
                    body = Self.errorBody(
                        message: "Unable to find a conversation with ID '\(conversationID)'", code: "not.found",
                        status: status, contextID: correlationID)
                }
            } else {
                status = 400
                body = Self.errorBody(
                    message: "The conversation ID '\(segment)' is not a valid UUID", code: "bad.request",
                    status: status, contextID: correlationID)
            }
        } else {
            status = 404
            body = Self.errorBody(
                message: "No resource matches the path '\(path)'", code: "not.found", status: status,
                contextID: correlationID)
        }

        let bytes = Self.serialize(status: status, headers: headers, body: body, keepAlive: request.keepAlive)
        if random.chance(faults.truncateRate) {
            let headLength = bytes.count - body.count
            return PlannedResponse(
                status: status, bytes: bytes, disposition: .truncate(byteCount: headLength + body.count / 2),
                delayNanoseconds: delay)
        }
        return PlannedResponse(
            status: status, bytes: bytes, disposition: .send(keepAlive: request.keepAlive), delayNanoseconds: delay)
    }

    /// The answer to bytes that are not an acceptable HTTP request: an error, then the connection closes.
    mutating func respondToInvalidRequest(status: Int, message: String) -> PlannedResponse {
        _ = state.arrive(conversationID: nil, rateLimited: false, now: 0)
        let correlationID = random.uuidString()
        let code = status == 400 ? "bad.request" : status == 413 ? "request.entity.too.large" : "invalid.request"
        let body = Self.errorBody(message: message, code: code, status: status, contextID: correlationID)
        return PlannedResponse(
            status: status,
            bytes: Self.serialize(
                status: status, headers: [("ININ-Correlation-Id", correlationID)], body: body, keepAlive: false),
            disposition: .send(keepAlive: false), delayNanoseconds: 0)
    }

    private mutating func document(id: String) -> [UInt8] {
        if let cached = documentCache[id] { return cached }
        let bytes = MockConversationStore.documentBytes(id: id, pretty: false)
        if documentCache.count >= Self.maximumCachedDocuments { documentCache.removeAll(keepingCapacity: true) }
        documentCache[id] = bytes
        return bytes
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

    /// Status line, the fixed headers (`Content-Type`, `Content-Length`, `Connection`), `headers`, blank line, body.
    static func serialize(
        status: Int, headers: [(name: String, value: String)], body: [UInt8], keepAlive: Bool
    )
        -> [UInt8]
    {
        var head = "HTTP/1.1 \(status) \(reasonPhrase(status))\r\n"
        head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        head += keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n"
        for header in headers { head += "\(header.name): \(header.value)\r\n" }
        head += "\r\n"
        var bytes: [UInt8] = []
        bytes.reserveCapacity(head.utf8.count + body.count)
        bytes.append(contentsOf: head.utf8)
        bytes.append(contentsOf: body)
        return bytes
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
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
