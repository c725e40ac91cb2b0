import Foundation

/// Why `SocketTransport` could not complete an exchange. Each case reads as a reason in the errors
/// file; none carries a header value, so no credential can leak through one.
public enum SocketTransportError: Error, Equatable, LocalizedError {
    /// The URL is neither `http://` nor `https://`, or it is `https://` and no libssl could be opened.
    case unsupportedScheme(String)
    /// `getaddrinfo` failed for the host.
    case cannotResolve(host: String, reason: String)
    /// No address of the host accepted a connection.
    case cannotConnect(endpoint: String, reason: String)
    /// No byte moved for the transport's timeout.
    case timedOut(seconds: Double)
    /// The whole exchange took longer than ``HTTPLimits/requestTimeout`` (a trickling or endless answer).
    case requestTimedOut(seconds: Double)
    /// The answer's body is larger than ``HTTPLimits/maxResponseBytes``.
    case responseTooLarge(limit: Int)
    /// The peer closed or reset the connection before the first byte of an answer.
    case closedBeforeAnswer
    /// The peer closed or reset the connection part-way through an answer.
    case closedMidAnswer(String)
    /// The answer is not HTTP/1.x as RFC 9112 frames it.
    case malformedAnswer(String)
    /// A request header name or value holds a character that would break the framing (CR, LF, NUL).
    case invalidRequestHeader(String)
    /// The TLS handshake was refused: the server's certificate (and why verification refused it),
    /// or a protocol failure. Every request to this server will fail the same way until the trust
    /// store or the server changes.
    case tlsRefused(String)
    /// TLS could not be set up, or failed on an established session.
    case tls(String)
    /// A socket call failed in a way not listed above.
    case socket(call: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .unsupportedScheme(let scheme): "the socket transport speaks http only, not \(scheme)"
        case .cannotResolve(let host, let reason): "cannot resolve \(host): \(reason)"
        case .cannotConnect(let endpoint, let reason): "cannot connect to \(endpoint): \(reason)"
        case .timedOut(let seconds): "no data for \(seconds) s"
        case .requestTimedOut(let seconds): "no complete answer within the request timeout of \(seconds) s"
        case .responseTooLarge(let limit):
            "the answer is larger than --max-response-size (\(HTTPLimits.describe(bytes: limit)))"
        case .closedBeforeAnswer: "the server closed the connection before answering"
        case .closedMidAnswer(let detail): "the server closed the connection mid-answer (\(detail))"
        case .malformedAnswer(let detail): "malformed HTTP answer: \(detail)"
        case .invalidRequestHeader(let name): "the request header \(name) holds CR, LF or NUL"
        case .tlsRefused(let detail): "TLS: \(detail)"
        case .tls(let detail): "TLS: \(detail)"
        case .socket(let call, let reason): "\(call) failed: \(reason)"
        }
    }

    /// Whether the same request would most likely fail the same way again: the server's framing
    /// or size, not the network. Such a failure is retried once at most.
    public var repeats: Bool {
        switch self {
        case .malformedAnswer, .responseTooLarge, .unsupportedScheme, .invalidRequestHeader: true
        default: false
        }
    }

    /// `strerror` for the current `errno`.
    static func describeErrno(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }
}
