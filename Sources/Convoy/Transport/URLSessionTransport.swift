import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `HTTPTransport` over Foundation's `URLSession`.
///
/// The session allows `maxConnectionsPerHost` parallel connections, caches nothing, stores no
/// cookies and follows no redirect: a redirect would carry the `Authorization` header (a bearer
/// token, or the client secret on the way to the login server) to wherever `Location` points, so
/// the 3xx answer itself is returned and recorded as a failure. Each request is a `dataTask` wrapped in a checked continuation inside
/// `withTaskCancellationHandler`, so cancelling the awaiting task cancels the transfer (the async
/// `URLSession.data(for:)` does not do that on Linux).
public final class URLSessionTransport: HTTPTransport {
    private let session: URLSession
    private let limits: HTTPLimits

    /// - Parameters:
    ///   - maxConnectionsPerHost: parallel connections; keep it at least the engine's concurrency.
    ///   - timeout: how long one request may go without data before it fails.
    ///   - limits: the whole request's deadline (`timeoutIntervalForResource`) and the largest
    ///     answer accepted, checked once URLSession has it (it cannot be stopped part-way).
    public init(maxConnectionsPerHost: Int, timeout: Duration = .seconds(60), limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = max(1, maxConnectionsPerHost)
        configuration.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.timeoutIntervalForRequest = timeout.seconds
        configuration.timeoutIntervalForResource = limits.requestTimeout.seconds
        session = URLSession(configuration: configuration, delegate: RefuseRedirects(), delegateQueue: nil)
    }

    deinit {
        session.invalidateAndCancel()
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        urlRequest.httpBody = request.body
        for (name, value) in request.headers {
            urlRequest.setValue(value, forHTTPHeaderField: name)
        }
        let box = TaskBox()
        let maxResponseBytes = limits.maxResponseBytes
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, Error>) in
                let task = session.dataTask(with: urlRequest) { data, response, error in
                    if let error {
                        let cancelled = (error as? URLError)?.code == .cancelled
                        continuation.resume(throwing: cancelled ? CancellationError() : error)
                        return
                    }
                    guard let http = response as? HTTPURLResponse else {
                        continuation.resume(throwing: URLError(.badServerResponse))
                        return
                    }
                    guard (data?.count ?? 0) <= maxResponseBytes else {
                        continuation.resume(throwing: SocketTransportError.responseTooLarge(limit: maxResponseBytes))
                        return
                    }
                    let headers = HTTPHeaders(
                        http.allHeaderFields.compactMap { key, value in
                            (key as? String).map { ($0, "\(value)") }
                        })
                    continuation.resume(
                        returning: HTTPResponse(status: http.statusCode, headers: headers, body: data ?? Data()))
                }
                box.start(task)
            }
        } onCancel: {
            box.cancel()
        }
    }
}

/// Declines every redirect, so credentials never follow a `Location` header.
private final class RefuseRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}

/// Holds the data task so a cancellation that arrives before or after `resume()` still cancels it.
private final class TaskBox: @unchecked Sendable {
    // Guarded by `lock`; @unchecked because URLSessionDataTask is not Sendable on Linux.
    private let lock = NSLock()
    private var task: URLSessionDataTask?
    private var cancelled = false

    func start(_ task: URLSessionDataTask) {
        lock.lock()
        self.task = task
        let cancelled = self.cancelled
        lock.unlock()
        if cancelled { task.cancel() } else { task.resume() }
    }

    func cancel() {
        lock.lock()
        cancelled = true
        let task = self.task
        lock.unlock()
        task?.cancel()
    }
}
