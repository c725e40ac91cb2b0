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
    /// The peer closed or reset the connection before the first byte of an answer.
    case closedBeforeAnswer
    /// The peer closed or reset the connection part-way through an answer.
    case closedMidAnswer(String)
    /// The answer is not HTTP/1.x as RFC 9112 frames it.
    case malformedAnswer(String)
    /// A request header name or value holds a character that would break the framing (CR, LF, NUL).
    case invalidRequestHeader(String)
    /// TLS could not be set up or failed: the handshake, the certificate (and why it was refused),
    /// or the library.
    case tls(String)
    /// A socket call failed in a way not listed above.
    case socket(call: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .unsupportedScheme(let scheme): "the socket transport speaks http only, not \(scheme)"
        case .cannotResolve(let host, let reason): "cannot resolve \(host): \(reason)"
        case .cannotConnect(let endpoint, let reason): "cannot connect to \(endpoint): \(reason)"
        case .timedOut(let seconds): "no data for \(seconds) s"
        case .closedBeforeAnswer: "the server closed the connection before answering"
        case .closedMidAnswer(let detail): "the server closed the connection mid-answer (\(detail))"
        case .malformedAnswer(let detail): "malformed HTTP answer: \(detail)"
        case .invalidRequestHeader(let name): "the request header \(name) holds CR, LF or NUL"
        case .tls(let detail): "TLS: \(detail)"
        case .socket(let call, let reason): "\(call) failed: \(reason)"
        }
    }

    /// `strerror` for the current `errno`.
    static func describeErrno(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }
}
