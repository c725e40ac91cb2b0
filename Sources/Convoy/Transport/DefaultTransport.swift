import Foundation

/// The transport `convoy` runs on: `http://` requests go to `SocketTransport`, everything else
/// (`https://`, for which TLS is needed) to `URLSessionTransport`.
///
/// Both halves refuse redirects, honour cancellation and bound a request by `timeout` without data,
/// so which one carries a request changes the memory a run grows by, not its behaviour.
public final class DefaultTransport: HTTPTransport {
    private let plain: SocketTransport
    private let tls: URLSessionTransport

    /// - Parameters:
    ///   - maxConnectionsPerHost: parallel connections; keep it at least the engine's concurrency.
    ///   - timeout: how long one request may go without data before it fails.
    public init(maxConnectionsPerHost: Int, timeout: Duration = .seconds(60)) {
        plain = SocketTransport(maxConnections: maxConnectionsPerHost, timeout: timeout)
        tls = URLSessionTransport(maxConnectionsPerHost: maxConnectionsPerHost, timeout: timeout)
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        if request.url.scheme?.lowercased() == "http" {
            return try await plain.send(request)
        }
        return try await tls.send(request)
    }
}
