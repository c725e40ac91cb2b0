import Foundation

@testable import ConvoyMock

/// The mock's decisions without a socket or a clock: a ``MockResponder`` (what the event loop calls for every
/// request) driven with instants the test chooses, so rate-limit windows, token expiry, job states and injected
/// latency are checked exactly, at and either side of their boundaries, without sleeping.
///
/// The responder and its ``MockServerState`` are built as ``MockAPIServer/start(_:)`` builds them, with the server's
/// start at instant zero. The answer is parsed from the exact bytes the server would write.
struct ResponderHarness {
    /// What the server decided for one request at its arrival.
    struct Answer {
        var response: LoopbackResponse
        /// The injected latency: the response would leave this long after the request arrived.
        var delay: Duration

        var status: Int { response.status }
        subscript(header name: String) -> String? { response[header: name] }
    }

    private let state: MockServerState
    private var responder: MockResponder

    init(_ configuration: MockServerConfiguration = MockServerConfiguration()) {
        state = MockServerState(
            rateLimit: configuration.rateLimit, tokenRateLimit: configuration.oauth?.tokenRateLimit,
            externalLoad: configuration.externalLoadPerWindow, startNanoseconds: 0)
        responder = MockResponder(configuration: configuration, state: state)
    }

    /// The answer to `text`, one complete HTTP request, arriving `instant` after the server started.
    mutating func send(_ text: String, at instant: Duration) throws -> Answer {
        guard case .request(let request, _) = HTTPRequestParser.parse(Array(text.utf8), from: 0) else {
            throw LoopbackClientError(description: "not one complete request: \(text)")
        }
        let planned = responder.respond(to: request, now: Self.nanoseconds(instant))
        let separator = Array("\r\n\r\n".utf8)
        guard
            let headEnd = planned.bytes.indices.first(where: {
                planned.bytes[$0...].starts(with: separator)
            })
        else { throw LoopbackClientError(description: "no response head (disposition \(planned.disposition))") }
        let (status, headers) = try LoopbackClient.parseHead(
            String(decoding: planned.bytes[..<headEnd], as: UTF8.self))
        var body = Array(planned.bytes[(headEnd + separator.count)...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            guard let decoded = LoopbackClient.dechunk(body), decoded.consumed == body.count else {
                throw LoopbackClientError(description: "a chunked body that does not end with its last chunk")
            }
            body = decoded.body
        }
        let response = LoopbackResponse(
            status: status, headers: headers, body: body, contentLength: body.count, isComplete: true)
        return Answer(response: response, delay: .nanoseconds(planned.delayNanoseconds))
    }

    /// The answer to a `GET` arriving at `instant`.
    mutating func get(_ path: String, headers: [String: String] = [:], at instant: Duration) throws -> Answer {
        try send(LoopbackClient.getRequest(path, headers: headers), at: instant)
    }

    /// The answer to a `POST` with `body` arriving at `instant`.
    mutating func post(
        _ path: String, headers: [String: String] = [:], body: String, at instant: Duration
    ) throws -> Answer {
        try send(LoopbackClient.requestText("POST", path, headers: headers, body: body), at: instant)
    }

    /// Replaces the rate limit at `instant`, as ``MockAPIServer/updateRateLimit(_:)`` does at the current time.
    func updateRateLimit(_ limit: MockRateLimit?, at instant: Duration) {
        state.updateRateLimit(limit, now: Self.nanoseconds(instant))
    }

    /// Invalidates every token issued so far, as ``MockAPIServer/expireAllTokens()`` does.
    func expireAllTokens() {
        state.expireAllTokens()
    }

    /// The counters; responses are counted by the event loop when written, so `responsesByStatus` stays empty here.
    func counters() -> MockCounters {
        state.counters()
    }

    private static func nanoseconds(_ instant: Duration) -> UInt64 {
        UInt64(instant.clampedNanoseconds)
    }
}
