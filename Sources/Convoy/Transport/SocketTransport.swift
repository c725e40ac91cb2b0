import Foundation
import Glibc

/// `HTTPTransport` over TCP sockets, plain for `http://` and through the system's OpenSSL
/// (`TLSLibrary`) for `https://`: HTTP/1.1 with keep-alive, and no FoundationNetworking on the path.
///
/// Why it exists: FoundationNetworking in the Swift 6.3.1 toolchain leaks a parsed libcurl URL on
/// every request (`CFURLSessionCurlHostIsEqual` frees a `CURLU` with `curl_free`, fixed upstream in
/// swift-corelibs-foundation #5498), about 100 bytes a request, which over millions of ids is the
/// largest part of a run's memory. This transport allocates per request only the request's bytes and
/// the answer.
///
/// Model: up to `maxConnections` worker threads, each owning at most one keep-alive connection.
/// A request waits in a FIFO queue, holding no thread, until a worker is free; blocking I/O runs
/// on the workers, never on the cooperative pool. Invariants, all under one lock:
/// - a request's continuation is resumed exactly once, by whoever takes it out of its `Job`;
/// - cancelling a queued request resumes it with `CancellationError` at once; cancelling a running
///   one shuts its socket down, which wakes the blocked call, and it too ends in `CancellationError`;
/// - a worker detaches its socket from the job before it closes the socket, so a late cancellation
///   never shuts down a descriptor number that a newer socket has reused.
///
/// A request whose reused connection turns out closed before any byte of an answer (the server
/// timed the idle connection out) goes once more on a fresh connection, as curl does; one on which
/// something arrived while it was idle is not reused at all (`HTTPConnection.canCarryAnotherRequest`). Redirects
/// are returned, not followed. Connecting and each `send`/`recv` are bounded by `timeout`, each
/// exchange by ``HTTPLimits/requestTimeout``, and each answer's size by
/// ``HTTPLimits/maxResponseBytes``.
public final class SocketTransport: HTTPTransport {
    private let pool: Pool

    /// Whether `https://` works here: a libssl could be opened.
    public static var supportsTLS: Bool { TLSLibrary.shared != nil }

    /// - Parameters:
    ///   - maxConnections: worker threads and so parallel connections; keep it at least the
    ///     engine's concurrency.
    ///   - timeout: how long connecting, the handshake, or one request may go without a byte moving.
    ///   - limits: the deadline of a whole exchange and the bounds on an answer's size.
    ///   - trustedCertificates: a PEM bundle to verify servers against instead of the system's
    ///     trust store (a private CA); a bundle that cannot be read fails every https request.
    public init(
        maxConnections: Int, timeout: Duration = .seconds(60), limits: HTTPLimits = HTTPLimits(),
        trustedCertificates: String? = nil
    ) {
        let tls = TLSLibrary.shared.map { library in
            Result { try library.makeClientContext(trustedCertificates: trustedCertificates) }
        }
        pool = Pool(maxWorkers: max(1, maxConnections), timeout: timeout, limits: limits, tls: tls)
    }

    deinit {
        pool.shutDown()
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let job = Job(request: request)
        let pool = self.pool
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                pool.enqueue(job, continuation)
            }
        } onCancel: {
            pool.cancel(job)
        }
    }

    /// One request on its way; every mutable field is guarded by `Pool.condition`.
    final class Job: @unchecked Sendable {
        let request: HTTPRequest
        var continuation: CheckedContinuation<HTTPResponse, Error>?
        var cancelled = false
        var queued = false
        /// The socket the request is on while a worker sends it, else -1.
        var descriptor: Int32 = -1

        init(request: HTTPRequest) {
            self.request = request
        }
    }

    /// The queue and the workers.
    final class Pool: @unchecked Sendable {
        // Every mutable field is guarded by `condition`.
        private let condition = NSCondition()
        private var queue: [Job] = []
        private var head = 0
        private var workers = 0
        private var idle = 0
        private var closed = false
        private let maxWorkers: Int
        let timeout: Duration
        let limits: HTTPLimits
        /// The client context for https, made once; nil when no libssl could be opened.
        let tls: Result<TLSContext, Error>?

        init(maxWorkers: Int, timeout: Duration, limits: HTTPLimits, tls: Result<TLSContext, Error>?) {
            self.maxWorkers = maxWorkers
            self.timeout = timeout
            self.limits = limits
            self.tls = tls
        }

        func enqueue(_ job: Job, _ continuation: CheckedContinuation<HTTPResponse, Error>) {
            condition.lock()
            if job.cancelled || closed {
                condition.unlock()
                continuation.resume(throwing: CancellationError())
                return
            }
            job.continuation = continuation
            job.queued = true
            queue.append(job)
            // More requests waiting than workers waiting for them (a woken worker counts as idle
            // until it takes one): one more worker, up to the maximum.
            if queue.count - head > idle && workers < maxWorkers {
                workers += 1
                let thread = Thread { [self] in work() }
                thread.name = "convoy-http"
                thread.start()
            }
            condition.signal()
            condition.unlock()
        }

        func cancel(_ job: Job) {
            condition.lock()
            job.cancelled = true
            var continuation: CheckedContinuation<HTTPResponse, Error>?
            if job.queued, let index = queue[head...].firstIndex(where: { $0 === job }) {
                queue.remove(at: index)
                job.queued = false
                continuation = job.continuation
                job.continuation = nil
            } else if job.descriptor >= 0 {
                shutdown(job.descriptor, Int32(SHUT_RDWR))
            }
            condition.unlock()
            continuation?.resume(throwing: CancellationError())
        }

        func shutDown() {
            condition.lock()
            closed = true
            let waiting = queue[head...].compactMap { job -> CheckedContinuation<HTTPResponse, Error>? in
                defer { job.continuation = nil }
                return job.continuation
            }
            queue = []
            head = 0
            condition.broadcast()
            condition.unlock()
            for continuation in waiting { continuation.resume(throwing: CancellationError()) }
        }

        /// The next job for a worker, or nil once the transport is gone.
        private func next() -> Job? {
            condition.lock()
            defer { condition.unlock() }
            while head == queue.count && !closed {
                idle += 1
                condition.wait()
                idle -= 1
            }
            if closed { return nil }
            let job = queue[head]
            head += 1
            if head > 1024 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            job.queued = false
            return job
        }

        /// Records the socket a job is on; false when the job was cancelled meanwhile.
        private func attach(_ descriptor: Int32, to job: Job) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            guard !job.cancelled else { return false }
            job.descriptor = descriptor
            return true
        }

        private func detach(_ job: Job) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            job.descriptor = -1
            return job.cancelled
        }

        private func finish(_ job: Job, _ result: Result<HTTPResponse, Error>) {
            condition.lock()
            let continuation = job.continuation
            job.continuation = nil
            let cancelled = job.cancelled
            condition.unlock()
            continuation?.resume(with: cancelled ? .failure(CancellationError()) : result)
        }

        private func work() {
            var connection: HTTPConnection?
            while let job = next() {
                let result: Result<HTTPResponse, Error>
                do {
                    result = .success(try exchange(job, on: &connection))
                } catch {
                    result = .failure(error)
                }
                let cancelled = detach(job)
                if cancelled || !(connection?.endedCleanly ?? false) {
                    connection?.close()
                    connection = nil
                }
                finish(job, result)
            }
            connection?.close()
        }

        /// Sends the job on the worker's connection when it goes to the same endpoint and is still
        /// reusable, else on a new one; retries once on a new one when a reused connection was
        /// found closed.
        private func exchange(_ job: Job, on connection: inout HTTPConnection?) throws -> HTTPResponse {
            let url = job.request.url
            let scheme = url.scheme?.lowercased() ?? "no scheme"
            let context: TLSContext?
            switch scheme {
            case "http": context = nil
            case "https":
                guard let tls else { throw SocketTransportError.unsupportedScheme("https (no libssl here)") }
                context = try tls.get()
            default: throw SocketTransportError.unsupportedScheme(scheme)
            }
            guard let host = url.host, !host.isEmpty else {
                throw SocketTransportError.cannotResolve(host: "(none)", reason: "the URL has no host")
            }
            let port = url.port ?? (context == nil ? 80 : 443)
            let authority = host.contains(":") ? "[\(host)]" : host
            let endpoint = "\(scheme)://\(authority):\(port)"
            let hostHeader = url.port == nil ? authority : "\(authority):\(port)"
            var target = url.path(percentEncoded: true)
            if target.isEmpty { target = "/" }
            if let query = url.query(percentEncoded: true) { target += "?" + query }

            var reused = false
            if let current = connection, current.endpoint == endpoint, current.canCarryAnotherRequest {
                reused = true
            } else {
                connection?.close()
                connection = nil
            }
            while true {
                let live: HTTPConnection
                if let current = connection {
                    live = current
                } else {
                    live = try HTTPConnection.open(
                        host: host, port: port, timeout: timeout, tls: context, limits: limits)
                    connection = live
                }
                guard attach(live.descriptor, to: job) else { throw CancellationError() }
                do {
                    return try live.exchange(
                        job.request, target: target, hostHeader: hostHeader,
                        deadline: .now + limits.requestTimeout)
                } catch SocketTransportError.closedBeforeAnswer where reused {
                    _ = detach(job)
                    live.close()
                    connection = nil
                    reused = false
                }
            }
        }
    }
}
