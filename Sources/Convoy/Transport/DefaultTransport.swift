import Foundation

/// The transport `convoy` runs on: `SocketTransport` for `http://`, and for `https://` where the
/// system's libssl could be opened; `URLSessionTransport` for the rest, and for every request when
/// the environment names a proxy (`http_proxy`, `https_proxy`, `all_proxy`, in either case), which
/// libcurl honours and the socket transport does not, or when `CONVOY_TRANSPORT=urlsession` asks
/// for it (a way back should a server and the socket transport disagree).
///
/// Both refuse redirects, honour cancellation, bound a request by `timeout` without data and by
/// ``HTTPLimits/requestTimeout`` in all, and refuse an answer over ``HTTPLimits/maxResponseBytes``,
/// so which one carries a request changes the memory a run grows by (URLSession in Swift 6.3.1
/// leaks about 100 bytes a request, and buffers a whole answer before its size can be refused),
/// not its behaviour.
public final class DefaultTransport: HTTPTransport {
    private let sockets: SocketTransport
    private let session: URLSessionTransport
    private let socketSchemes: Set<String>

    /// - Parameters:
    ///   - maxConnectionsPerHost: parallel connections; keep it at least the engine's concurrency.
    ///   - timeout: how long one request may go without data before it fails.
    ///   - limits: the deadline of a whole request and the largest answer accepted.
    ///   - environment: where proxy settings are read (the process's, by default).
    public init(
        maxConnectionsPerHost: Int, timeout: Duration = .seconds(60), limits: HTTPLimits = HTTPLimits(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        sockets = SocketTransport(maxConnections: maxConnectionsPerHost, timeout: timeout, limits: limits)
        session = URLSessionTransport(maxConnectionsPerHost: maxConnectionsPerHost, timeout: timeout, limits: limits)
        socketSchemes = Self.socketSchemes(environment: environment, tls: SocketTransport.supportsTLS)
    }

    /// The schemes the socket transport carries, given the environment's proxy settings.
    static func socketSchemes(environment: [String: String], tls: Bool) -> Set<String> {
        func proxied(_ name: String) -> Bool {
            !(environment[name] ?? environment[name.uppercased()] ?? "").isEmpty
        }
        if proxied("all_proxy") || environment["CONVOY_TRANSPORT"] == "urlsession" { return [] }
        var schemes: Set<String> = []
        if !proxied("http_proxy") { schemes.insert("http") }
        if tls && !proxied("https_proxy") { schemes.insert("https") }
        return schemes
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        if socketSchemes.contains(request.url.scheme?.lowercased() ?? "") {
            return try await sockets.send(request)
        }
        return try await session.send(request)
    }
}
