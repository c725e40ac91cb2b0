import Foundation
import Glibc

/// One blocking HTTP/1.1 connection over TCP, plain or through a `TLSStream`, used by one
/// `SocketTransport` worker thread at a time.
///
/// The bytes are framed by an `HTTPResponseDecoder` (RFC 9112; its doc lists the lenient forms
/// accepted). A connection carries another request only when ``canCarryAnotherRequest``: the
/// decoder read the last answer exactly to its end (framed, neither side asked to close), and
/// nothing arrived on it meanwhile: a late byte is either the server's close or an answer no
/// request asked for, and either way the request goes on a fresh connection instead of being
/// answered by it.
///
/// Time: every `recv` and `send` is bounded by the idle timeout (how long no byte may move) and by
/// what is left of the exchange's deadline (``HTTPLimits/requestTimeout``), through `SO_RCVTIMEO`
/// and `SO_SNDTIMEO`; `shutdown(2)` from another thread wakes a blocked call, which is how a
/// cancelled request stops.
final class HTTPConnection {
    /// `scheme://host:port` this connection is to; a request for another endpoint opens its own.
    let endpoint: String
    /// The socket; valid until `close()`.
    let descriptor: Int32
    /// Whether the next request may go on this connection.
    private(set) var isReusable = true
    private let timeoutSeconds: Double
    private let tls: TLSStream?
    private var decoder: HTTPResponseDecoder
    /// The receive and send timeouts set on the socket now, in seconds.
    private var socketTimeout: Double

    private init(endpoint: String, descriptor: Int32, timeoutSeconds: Double, tls: TLSStream?, limits: HTTPLimits) {
        self.endpoint = endpoint
        self.descriptor = descriptor
        self.timeoutSeconds = timeoutSeconds
        self.socketTimeout = timeoutSeconds
        self.tls = tls
        self.decoder = HTTPResponseDecoder(limits: limits)
    }

    /// Resolves `host`, connects to the first address that accepts within `timeout`, sets
    /// `TCP_NODELAY` and the I/O timeouts, and with a `tls` context shakes hands for `host`.
    static func open(
        host: String, port: Int, timeout: Duration, tls: TLSContext?, limits: HTTPLimits
    ) throws -> HTTPConnection {
        let endpoint = (tls == nil ? "http://" : "https://") + (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw SocketTransportError.cannotResolve(host: host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }
        var reason = "no address"
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let info = next {
            next = info.pointee.ai_next
            let descriptor = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard descriptor >= 0 else {
                reason = SocketTransportError.describeErrno()
                continue
            }
            if let failure = connect(descriptor, to: info.pointee, within: timeout) {
                reason = failure
                Glibc.close(descriptor)
                continue
            }
            var one: Int32 = 1
            setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var limit = timeval(seconds: timeout.seconds)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            do {
                let stream = try tls.map {
                    try TLSStream(context: $0, descriptor: descriptor, host: host, timeoutSeconds: timeout.seconds)
                }
                return HTTPConnection(
                    endpoint: endpoint, descriptor: descriptor, timeoutSeconds: timeout.seconds, tls: stream,
                    limits: limits)
            } catch {
                Glibc.close(descriptor)
                throw error
            }
        }
        throw SocketTransportError.cannotConnect(endpoint: endpoint, reason: reason)
    }

    /// A non-blocking `connect` awaited with `poll`, so an unreachable host fails after `timeout`;
    /// the socket is blocking again on return. Returns why it failed, or nil.
    private static func connect(_ descriptor: Int32, to info: addrinfo, within timeout: Duration) -> String? {
        let flags = fcntl(descriptor, F_GETFL)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(descriptor, F_SETFL, flags) }
        if Glibc.connect(descriptor, info.ai_addr, info.ai_addrlen) == 0 { return nil }
        guard errno == EINPROGRESS else { return SocketTransportError.describeErrno() }
        var waiting = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        let milliseconds = Int32(clamping: Int((timeout.seconds * 1000).rounded(.up)))
        var ready: Int32
        repeat { ready = poll(&waiting, 1, milliseconds) } while ready < 0 && errno == EINTR
        guard ready > 0 else { return ready == 0 ? "timed out" : SocketTransportError.describeErrno() }
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &length)
        return code == 0 ? nil : SocketTransportError.describeErrno(code)
    }

    func close() {
        tls?.shutdown()
        Glibc.close(descriptor)
    }

    /// Whether the next request may go on this idle connection: the last answer was read exactly to
    /// its end (the decoder framed it and neither side said `close`), no byte past it is buffered,
    /// and nothing has arrived since (the server's close, or an answer no request asked for).
    var canCarryAnotherRequest: Bool { endedCleanly && !somethingArrived }

    /// Whether the last answer left the connection fit for another: read exactly to its end, framed,
    /// neither side asked to close, and no byte past it buffered. Checked right after each exchange
    /// (no system call); ``canCarryAnotherRequest`` adds the check for what arrived while idle.
    var endedCleanly: Bool { isReusable && decoder.unreadBytes == 0 }

    /// True when the socket has something to read while no request is out.
    private var somethingArrived: Bool {
        var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&waiting, 1, 0) != 0
    }

    /// Sends `request` (its head and body in one write) and reads the whole answer, by `deadline`.
    ///
    /// Throws `SocketTransportError.closedBeforeAnswer` only when the peer sent no byte of an answer,
    /// which on a reused connection means the server had closed it idle: the caller may retry once
    /// on a fresh connection.
    func exchange(
        _ request: HTTPRequest, target: String, hostHeader: String, deadline: ContinuousClock.Instant
    ) throws -> HTTPResponse {
        isReusable = false
        decoder.begin(method: request.method)
        try limitSocketTimeout(to: deadline)
        try write(Self.encode(request, target: target, hostHeader: hostHeader))
        while true {
            if let response = try decoder.decode() {
                isReusable = decoder.isReusable
                return response
            }
            try limitSocketTimeout(to: deadline)
            guard try fill() else { return try decoder.finish() }
        }
    }

    /// Sets the socket's timeouts to the idle timeout or what is left until `deadline`, whichever is
    /// shorter; throws when the deadline has passed.
    private func limitSocketTimeout(to deadline: ContinuousClock.Instant) throws {
        let left = (deadline - ContinuousClock.now).seconds
        guard left > 0 else { throw SocketTransportError.requestTimedOut(seconds: requestTimeoutSeconds) }
        let wanted = min(timeoutSeconds, left)
        guard abs(wanted - socketTimeout) > 0.001 else { return }
        var limit = timeval(seconds: max(wanted, 0.001))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        socketTimeout = wanted
    }

    /// The error for a socket call that ran out of time: the deadline's when it was the shorter bound.
    private var timeoutError: SocketTransportError {
        socketTimeout < timeoutSeconds - 0.001
            ? .requestTimedOut(seconds: requestTimeoutSeconds) : .timedOut(seconds: timeoutSeconds)
    }

    /// The request timeout in seconds, to the millisecond, as the error says it.
    private var requestTimeoutSeconds: Double { (decoder.limits.requestTimeout.seconds * 1000).rounded() / 1000 }

    // MARK: - Request

    /// Header fields the connection writes itself; a request's own are dropped.
    private static let framingFields: Set<String> = ["host", "content-length", "transfer-encoding", "connection"]
    /// Methods whose request always carries `Content-Length`, 0 without a body.
    private static let bodyMethods: Set<String> = ["POST", "PUT", "PATCH"]

    static func encode(_ request: HTTPRequest, target: String, hostHeader: String) throws -> [UInt8] {
        var head = "\(request.method) \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\n"
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key })
        where !Self.framingFields.contains(name.lowercased()) {
            guard Self.isSafe(name), Self.isSafe(value), !name.isEmpty, !name.contains(":") else {
                throw SocketTransportError.invalidRequestHeader(name.isSafeForDisplay ? name : "(unprintable)")
            }
            head += "\(name): \(value)\r\n"
        }
        if request.body != nil || Self.bodyMethods.contains(request.method) {
            head += "Content-Length: \(request.body?.count ?? 0)\r\n"
        }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if let body = request.body { bytes.append(contentsOf: body) }
        return bytes
    }

    private static func isSafe(_ text: String) -> Bool {
        !text.utf8.contains { $0 == 13 || $0 == 10 || $0 == 0 }
    }

    private func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            if let tls {
                do {
                    sent += try bytes.withUnsafeBytes { raw in
                        try tls.write(raw.baseAddress! + sent, count: raw.count - sent, timeoutSeconds: timeoutSeconds)
                    }
                } catch SocketTransportError.timedOut {
                    throw timeoutError
                }
                continue
            }
            let count = bytes.withUnsafeBytes { raw in
                send(descriptor, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
            }
            if count > 0 {
                sent += count
                continue
            }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { throw timeoutError }
            // A peer that closed an idle keep-alive connection shows up here or on the first read.
            if code == EPIPE || code == ECONNRESET { throw SocketTransportError.closedBeforeAnswer }
            throw SocketTransportError.socket(call: "send", reason: SocketTransportError.describeErrno(code))
        }
    }

    // MARK: - Answer

    /// Reads more bytes into the decoder; false at the peer's close (or reset).
    private func fill() throws -> Bool {
        // Read before `receive`: the closure may not touch `decoder`, which `receive` is changing.
        let timedOut = timeoutError
        let (descriptor, tls, timeoutSeconds) = (self.descriptor, self.tls, self.timeoutSeconds)
        do {
            return try decoder.receive { space in
                if let tls {
                    return try tls.read(into: space.baseAddress!, count: space.count, timeoutSeconds: timeoutSeconds)
                }
                while true {
                    let count = recv(descriptor, space.baseAddress!, space.count, 0)
                    if count >= 0 { return count }
                    let code = errno
                    if code == EINTR { continue }
                    if code == EAGAIN || code == EWOULDBLOCK { throw timedOut }
                    if code == ECONNRESET { return 0 }
                    throw SocketTransportError.socket(call: "recv", reason: SocketTransportError.describeErrno(code))
                }
            } > 0
        } catch SocketTransportError.timedOut {
            throw timedOut  // TLS reports its time-outs without knowing which bound ran out
        }
    }
}

extension timeval {
    fileprivate init(seconds: Double) {
        let whole = seconds.rounded(.down)
        self.init(tv_sec: Int(whole), tv_usec: Int((seconds - whole) * 1_000_000))
    }
}

extension String {
    fileprivate var isSafeForDisplay: Bool {
        utf8.allSatisfy { $0 >= 32 && $0 < 127 }
    }
}
