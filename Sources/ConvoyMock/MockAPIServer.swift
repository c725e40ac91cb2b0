import Foundation
import Glibc
import Synchronization

/// An embedded mock of the Genesys Cloud API on a loopback HTTP/1.1 server.
///
/// One dedicated thread runs an epoll event loop over nonblocking sockets (keep-alive, pipelined requests,
/// `Content-Length` bodies); delayed responses wait on a timer heap, so latency injection never blocks other
/// connections. Behaviour, in order, for each request:
/// 1. `/api/v2/…` requests are offered to the rate limit at arrival; over the limit → `429` with `Retry-After`
///    and Genesys's `too.many.requests.retry.after` body (429s consume no budget and get no faults).
///    `POST /oauth/token` (only served with ``MockServerConfiguration/oauth``) has its own optional limit instead.
/// 2. With ``MockServerConfiguration/oauth`` set, `/api/v2/…` requests without a valid, unexpired bearer token
///    issued by this server → `401 authentication.required` (no faults). See ``MockOAuth``.
/// 3. Faults are drawn from the seeded PRNG (see ``MockFaults``); never on the token endpoint.
/// 4. Routing (another method than the one listed → `405`; a route named in
///    ``MockServerConfiguration/forbiddenRoutes`` → `403 not.authorized`; a non-UUID conversation id →
///    `400 bad.request`; an id for which ``MockConversationStore/exists(_:missingPerMille:)`` is false →
///    `404 not.found`; any other path → `404 not.found`):
///    - `GET /api/v2/conversations/{id}` → ``MockConversationStore/conversationDocument(id:)``;
///    - `GET /api/v2/analytics/conversations/{id}/details` → ``MockConversationStore/analyticsDocument(id:)``;
///    - `GET /api/v2/analytics/conversations/details?id=a,b,c` → `{"conversations":[…]}`, the existing ones in the
///      order asked (at most 100 ids, else `400`);
///    - `GET /api/v2/conversations/{id}/recordingmetadata` →
///      ``MockConversationStore/recordingMetadataDocument(id:)``;
///    - `GET /api/v2/conversations/messages/{id}` → ``MockConversationStore/messagingDocument(id:messageCount:)``
///      (`404` for voice conversations);
///    - `POST /api/v2/conversations/messages/{id}/messages/bulk` with a JSON array of at most 1,000 message ids
///      (else `400`) → `{"entities":[…]}` for those of the conversation, in the order asked, each with its
///      `normalizedMessage` (`?useNormalizedMessage=true` changes nothing);
///    - `POST /api/v2/analytics/conversations/details/query` with `{"interval","paging":{"pageSize","pageNumber"},…}`
///      → `{"conversations":[…],"totalHits"}` (no `conversations` on an empty page; page size `1...100`, default
///      25; `400` past ``MockServerConfiguration/queryResultCap``), over every conversation of the interval,
///      whatever the availability cut-off;
///    - `GET /api/v2/analytics/conversations/details/jobs/availability` → `{"dataAvailabilityDate"}`
///      (``MockServerConfiguration/analyticsAvailability``, or the current time when it is `nil`);
///    - `POST /api/v2/analytics/conversations/details/jobs` → `202 {"jobId"}`;
///      `GET …/jobs/{jobId}` → `{"state","submissionDate"}`, with `completionDate` once done and `expirationDate`
///      once fulfilled (`QUEUED`, then `PENDING` until
///      ``MockServerConfiguration/jobDelay`` has passed, then `FULFILLED`; for the first
///      ``MockServerConfiguration/failingJobs`` jobs `QUEUED`, then `FAILED` with an `errorMessage`);
///      `GET …/jobs/{jobId}/results?cursor=&pageSize=` → `{"conversations":[…],"cursor","dataAvailabilityDate"}`
///      (each entry the details document with participant attributes; no `cursor` on the last
///      page; `400` before the job is fulfilled, and for a failed job). The job finds
///      ``MockConversationStore/conversations(inInterval:universeSize:missingPerMille:mediaType:divisionID:availableBefore:)``
///      with ``MockServerConfiguration/analyticsAvailability`` as `availableBefore`.
///
/// Every response carries `Content-Type: application/json`, `Content-Length` (every second `200`:
/// `Transfer-Encoding: chunked`, see ``MockServerConfiguration/chunked200s``), `Connection` (`keep-alive`, or
/// `close` when the client asked for it), `Date`, `ININ-Correlation-Id` (unique, from run to run too) and, for
/// `/api/v2/` paths under a rate limit, the configured budget headers. The server ignores `SIGPIPE` process-wide and
/// writes with `MSG_NOSIGNAL`.
public final class MockAPIServer: Sendable {
    /// The bound TCP port (the kernel's choice when the configuration asked for port 0).
    public let port: UInt16
    /// `http://HOST:PORT`, e.g. `http://127.0.0.1:40123`.
    public let baseURL: URL

    private let state: MockServerState
    /// The loop thread and the descriptor that wakes it; `nil` once shut down.
    private let lifecycle: Mutex<Lifecycle?>

    private struct Lifecycle {
        var thread: pthread_t
        var wakeDescriptor: Int32
    }

    /// Ignores SIGPIPE once per process, so a peer that vanished mid-write cannot kill the process.
    private static let ignoreBrokenPipes: Void = {
        _ = signal(SIGPIPE, SIG_IGN)
    }()

    private init(port: UInt16, baseURL: URL, state: MockServerState, lifecycle: Lifecycle) {
        self.port = port
        self.baseURL = baseURL
        self.state = state
        self.lifecycle = Mutex(lifecycle)
    }

    /// Binds `configuration.host:configuration.port`, starts the event-loop thread and returns once the server
    /// accepts connections.
    /// - Throws: ``MockServerError`` when the host is not an IPv4 address or a system call fails (e.g. the port is
    ///   taken).
    public static func start(_ configuration: MockServerConfiguration) throws -> MockAPIServer {
        Self.ignoreBrokenPipes

        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = configuration.port.bigEndian
        guard inet_pton(AF_INET, configuration.host, &address.sin_addr) == 1 else {
            throw MockServerError(operation: "parse IPv4 host '\(configuration.host)'", code: 0)
        }

        let socketType = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        let listener = socket(AF_INET, socketType, 0)
        guard listener >= 0 else { throw MockServerError(operation: "socket", code: errno) }
        var descriptors: [Int32] = [listener]
        func fail(_ operation: String) -> MockServerError {
            let error = MockServerError(operation: operation, code: errno)
            for descriptor in descriptors { Glibc.close(descriptor) }
            return error
        }

        var on: Int32 = 1
        _ = setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw fail("bind") }
        guard listen(listener, 1024) == 0 else { throw fail("listen") }

        var boundAddress = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &boundAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        guard named == 0 else { throw fail("getsockname") }
        let port = UInt16(bigEndian: boundAddress.sin_port)

        guard let baseURL = URL(string: "http://\(configuration.host):\(port)") else {
            fatalError("http://\(configuration.host):\(port) is always a valid URL for a parsed IPv4 host")
        }

        let epoll = Epoll.create()
        guard epoll >= 0 else { throw fail("epoll_create1") }
        descriptors.append(epoll)
        let wake = Epoll.createEventFD()
        guard wake >= 0 else { throw fail("eventfd") }
        descriptors.append(wake)

        let state = MockServerState(
            rateLimit: configuration.rateLimit, tokenRateLimit: configuration.oauth?.tokenRateLimit,
            externalLoad: configuration.externalLoadPerWindow, startNanoseconds: MonotonicClock.nanoseconds())
        let thread: pthread_t
        do {
            thread = try startThread {
                MockEventLoop(
                    listenDescriptor: listener, wakeDescriptor: wake, epollDescriptor: epoll, state: state,
                    configuration: configuration
                ).run()
            }
        } catch {
            for descriptor in descriptors { Glibc.close(descriptor) }
            throw error
        }
        return MockAPIServer(
            port: port, baseURL: baseURL, state: state, lifecycle: Lifecycle(thread: thread, wakeDescriptor: wake))
    }

    /// A snapshot of the counters; a response is counted before it is written, so a client that read it sees it.
    public func counters() -> MockCounters {
        state.counters()
    }

    /// Changes the rate limit from now on (`nil` lifts it). Fixed window → fixed window keeps the requests already
    /// counted in the current window; token bucket → token bucket keeps its tokens (at most the new capacity); any
    /// other change starts fresh (a new window count, or a full bucket).
    public func updateRateLimit(_ limit: MockRateLimit?) {
        state.updateRateLimit(limit, now: MonotonicClock.nanoseconds())
    }

    /// Answers the next `count` `/api/v2/` requests as usual and holds the answer to every one after
    /// them for ten minutes, as a server that stops answering would, until called again (`nil`: answer
    /// everything). A test that kills a client mid-run uses it so that the client cannot finish first,
    /// however slowly the test itself is scheduled.
    public func holdAnswers(after count: Int?) {
        state.holdAnswers(after: count)
    }

    /// Invalidates every access token issued so far, as if they had all expired: the next `/api/v2/` request with
    /// one gets `401` and the client must fetch a new token. No effect without ``MockServerConfiguration/oauth``.
    public func expireAllTokens() {
        state.expireAllTokens()
    }

    /// Stops the event loop, closes the listening socket and every connection, and joins the loop thread.
    /// Idempotent and safe to call from several threads; the port is free again when it returns.
    public func shutdown() {
        lifecycle.withLock { lifecycle in
            guard let running = lifecycle else { return }
            lifecycle = nil
            var one: UInt64 = 1
            _ = withUnsafeBytes(of: &one) { write(running.wakeDescriptor, $0.baseAddress, $0.count) }
            pthread_join(running.thread, nil)
            Glibc.close(running.wakeDescriptor)
        }
    }

    deinit {
        shutdown()
    }
}

/// Starts a joinable POSIX thread running `body`.
private func startThread(_ body: @escaping @Sendable () -> Void) throws -> pthread_t {
    final class Entry {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Entry(body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(
        &thread, nil,
        { context in
            Unmanaged<Entry>.fromOpaque(context!).takeRetainedValue().body()
            return nil
        }, context)
    guard result == 0 else {
        Unmanaged<Entry>.fromOpaque(context).release()
        throw MockServerError(operation: "pthread_create", code: result)
    }
    return thread
}
