import Foundation
import Glibc

/// One blocking HTTP/1.1 connection over TCP, plain or through a `TLSStream`, used by one
/// `SocketTransport` worker thread at a time.
///
/// Framing follows RFC 9112: an answer's body ends at `Content-Length`, at the last chunk of a
/// `chunked` transfer coding, or (with neither) at the close; `HEAD`, 1xx, 204 and 304 answers have
/// none. Interim 1xx answers are skipped. The connection stays reusable only when the answer was
/// fully read, was framed by length or chunks, and neither side asked to close.
///
/// Every `recv` and `send` is bounded by `SO_RCVTIMEO` / `SO_SNDTIMEO` (the transport's timeout:
/// how long no byte may move), and `shutdown(2)` from another thread wakes a blocked call, which is
/// how a cancelled request stops.
final class HTTPConnection {
    /// `scheme://host:port` this connection is to; a request for another endpoint opens its own.
    let endpoint: String
    /// The socket; valid until `close()`.
    let descriptor: Int32
    /// Whether the next request may go on this connection.
    private(set) var isReusable = true
    private let timeoutSeconds: Double
    private let tls: TLSStream?
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var start = 0
    private var end = 0
    /// Bytes of the current answer received so far: 0 means the peer sent nothing.
    private var answerBytes = 0

    /// The largest status line plus header section accepted.
    static let maximumHeadBytes = 256 * 1024

    private init(endpoint: String, descriptor: Int32, timeoutSeconds: Double, tls: TLSStream?) {
        self.endpoint = endpoint
        self.descriptor = descriptor
        self.timeoutSeconds = timeoutSeconds
        self.tls = tls
    }

    /// Resolves `host`, connects to the first address that accepts within `timeout`, sets
    /// `TCP_NODELAY` and the I/O timeouts, and with a `tls` context shakes hands for `host`.
    static func open(host: String, port: Int, timeout: Duration, tls: TLSContext?) throws -> HTTPConnection {
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
                    endpoint: endpoint, descriptor: descriptor, timeoutSeconds: timeout.seconds, tls: stream)
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

    /// Sends `request` (its head and body in one write) and reads the whole answer.
    ///
    /// Throws `SocketTransportError.closedBeforeAnswer` only when the peer sent no byte of an answer,
    /// which on a reused connection means the server had closed it idle: the caller may retry once
    /// on a fresh connection.
    func exchange(_ request: HTTPRequest, target: String, hostHeader: String) throws -> HTTPResponse {
        isReusable = false
        answerBytes = 0
        try write(Self.encode(request, target: target, hostHeader: hostHeader))
        while true {
            let (status, headers, keepAlive) = try readHead()
            if (100..<200).contains(status) && status != 101 { continue }
            let body = try readBody(status: status, method: request.method, headers: headers)
            isReusable = body.framed && keepAlive
            return HTTPResponse(status: status, headers: headers, body: body.data)
        }
    }

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
                sent += try bytes.withUnsafeBytes { raw in
                    try tls.write(raw.baseAddress! + sent, count: raw.count - sent, timeoutSeconds: timeoutSeconds)
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
            if code == EAGAIN || code == EWOULDBLOCK { throw SocketTransportError.timedOut(seconds: timeoutSeconds) }
            // A peer that closed an idle keep-alive connection shows up here or on the first read.
            if code == EPIPE || code == ECONNRESET { throw SocketTransportError.closedBeforeAnswer }
            throw SocketTransportError.socket(call: "send", reason: SocketTransportError.describeErrno(code))
        }
    }

    // MARK: - Answer

    /// Reads a status line and header section: (status, fields, whether the connection may stay open).
    private func readHead() throws -> (Int, HTTPHeaders, Bool) {
        // Bytes already searched, counted from `start`: `fill()` may move the buffer's contents.
        var searched = 0
        while true {
            if let found = Self.find(crlfcrlf: buffer, from: start + max(0, searched - 3), to: end) {
                let head = String(decoding: buffer[start..<found], as: UTF8.self)
                start = found + 4
                return try Self.parse(head: head)
            }
            searched = end - start
            guard end - start < Self.maximumHeadBytes else {
                throw SocketTransportError.malformedAnswer("a head longer than \(Self.maximumHeadBytes) bytes")
            }
            guard try fill() else {
                throw answerBytes == 0
                    ? SocketTransportError.closedBeforeAnswer
                    : SocketTransportError.closedMidAnswer("in the head")
            }
        }
    }

    static func parse(head: String) throws -> (Int, HTTPHeaders, Bool) {
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        let statusLine = lines.popFirst() ?? ""
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100...999).contains(status)
        else {
            throw SocketTransportError.malformedAnswer("status line \"\(statusLine.prefix(60))\"")
        }
        var fields: [(String, String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw SocketTransportError.malformedAnswer("header line \"\(line.prefix(60))\"")
            }
            fields.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        let headers = HTTPHeaders(fields)
        let options = Self.list(headers["connection"]?.lowercased())
        let keepAlive = parts[0] == "HTTP/1.0" ? options.contains("keep-alive") : !options.contains("close")
        return (status, headers, keepAlive)
    }

    /// The elements of a comma-separated field value (RFC 9110 §5.6.1), trimmed.
    private static func list(_ value: String?) -> [String] {
        (value ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    private struct Body {
        var data: Data
        /// Whether the body's end was framed (by length or chunks), so the connection can carry on.
        var framed: Bool
    }

    private func readBody(status: Int, method: String, headers: HTTPHeaders) throws -> Body {
        if method == "HEAD" || status == 204 || status == 304 { return Body(data: Data(), framed: true) }
        // Repeated fields arrive joined with ", " (`HTTPHeaders`): the last coding is the outermost.
        if let codings = Self.list(headers["transfer-encoding"]?.lowercased()).last {
            guard codings == "chunked" else {
                throw SocketTransportError.malformedAnswer("transfer coding \"\(codings.prefix(40))\"")
            }
            return Body(data: try readChunks(), framed: true)
        }
        if let text = headers["content-length"] {
            // A repeated Content-Length is valid only when every copy says the same.
            let lengths = Set(Self.list(text))
            guard lengths.count == 1, let length = lengths.first.flatMap({ Int($0) }), length >= 0 else {
                throw SocketTransportError.malformedAnswer("Content-Length \"\(text.prefix(40))\"")
            }
            return Body(data: try readExactly(length, what: "the body"), framed: true)
        }
        var data = Data()
        while true {
            data.append(contentsOf: buffer[start..<end])
            start = end
            guard try fill() else { return Body(data: data, framed: false) }
        }
    }

    private func readChunks() throws -> Data {
        var data = Data()
        while true {
            let line = try readLine(what: "a chunk size")
            let sizeText = line.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
            guard let size = Int(sizeText.trimmingASCIISpaces(), radix: 16), size >= 0 else {
                throw SocketTransportError.malformedAnswer("chunk size \"\(line.prefix(20))\"")
            }
            if size == 0 {
                while try !readLine(what: "the trailer").isEmpty {}
                return data
            }
            data.append(try readExactly(size, what: "a chunk"))
            guard try readLine(what: "a chunk's end").isEmpty else {
                throw SocketTransportError.malformedAnswer("a chunk longer than its size")
            }
        }
    }

    private func readLine(what: String) throws -> String {
        while true {
            if let newline = buffer[start..<end].firstIndex(of: 10) {
                let lineEnd = newline > start && buffer[newline - 1] == 13 ? newline - 1 : newline
                let line = String(decoding: buffer[start..<lineEnd], as: UTF8.self)
                start = newline + 1
                return line
            }
            guard end - start < 8192 else { throw SocketTransportError.malformedAnswer("\(what) line too long") }
            guard try fill() else { throw SocketTransportError.closedMidAnswer("in \(what)") }
        }
    }

    private func readExactly(_ count: Int, what: String) throws -> Data {
        var data = Data(capacity: count)
        while data.count < count {
            if start == end {
                guard try fill() else {
                    throw SocketTransportError.closedMidAnswer("\(data.count) of \(count) bytes of \(what)")
                }
            }
            let take = min(count - data.count, end - start)
            data.append(contentsOf: buffer[start..<(start + take)])
            start += take
        }
        return data
    }

    /// Reads more bytes into the buffer; false at the peer's close (or reset).
    private func fill() throws -> Bool {
        if start == end {
            start = 0
            end = 0
        } else if end == buffer.count {
            if start > 0 {
                buffer.replaceSubrange(0..<(end - start), with: buffer[start..<end])
                end -= start
                start = 0
            } else {
                buffer.append(contentsOf: repeatElement(0, count: buffer.count))
            }
        }
        if let tls {
            let count = try buffer.withUnsafeMutableBytes { raw in
                try tls.read(into: raw.baseAddress! + end, count: raw.count - end, timeoutSeconds: timeoutSeconds)
            }
            end += count
            answerBytes += count
            return count > 0
        }
        while true {
            let count = buffer.withUnsafeMutableBytes { raw in
                recv(descriptor, raw.baseAddress! + end, raw.count - end, 0)
            }
            if count > 0 {
                end += count
                answerBytes += count
                return true
            }
            if count == 0 { return false }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { throw SocketTransportError.timedOut(seconds: timeoutSeconds) }
            if code == ECONNRESET { return false }
            throw SocketTransportError.socket(call: "recv", reason: SocketTransportError.describeErrno(code))
        }
    }

    private static func find(crlfcrlf bytes: [UInt8], from: Int, to: Int) -> Int? {
        var index = from
        while index + 3 < to {
            if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
                return index
            }
            index += 1
        }
        return nil
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
