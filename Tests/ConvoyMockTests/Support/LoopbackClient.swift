import Foundation
import Glibc

/// A failure of the test client (connect, send, receive or parse).
struct LoopbackClientError: Error, CustomStringConvertible {
    var description: String
}

/// One HTTP response as read off the wire.
struct LoopbackResponse {
    var status: Int
    /// Header values by lowercased name.
    var headers: [String: String]
    var body: [UInt8]
    /// The `Content-Length` the server announced; for a chunked body, the length of the chunks that arrived.
    var contentLength: Int
    /// False when the connection ended before `contentLength` body bytes (or a chunked body's last chunk) arrived.
    var isComplete: Bool
    /// Whether the body came `Transfer-Encoding: chunked` (``body`` is then the chunks' data, joined).
    var isChunked: Bool { headers["transfer-encoding"]?.lowercased() == "chunked" }

    subscript(header name: String) -> String? { headers[name.lowercased()] }

    var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as a JSON array.
    func jsonArray() throws -> [Any] {
        guard let array = try JSONSerialization.jsonObject(with: Data(body)) as? [Any] else {
            throw LoopbackClientError(description: "body is not a JSON array: \(bodyText)")
        }
        return array
    }

    /// The body parsed as a JSON object.
    func jsonObject() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw LoopbackClientError(description: "body is not a JSON object: \(bodyText)")
        }
        return object
    }
}

/// A minimal blocking HTTP/1.1 client over one TCP connection to 127.0.0.1, so tests can see exactly what travels
/// on the wire (keep-alive, pipelining, truncation, resets). Every receive times out after `timeout`.
final class LoopbackClient {
    private let descriptor: Int32
    private var buffer: [UInt8] = []

    init(port: UInt16, timeout: Duration = .seconds(5)) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw LoopbackClientError(description: "socket: errno \(errno)") }
        let (seconds, attoseconds) = timeout.components
        var interval = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw LoopbackClientError(description: "connect: errno \(code)")
        }
    }

    deinit {
        Glibc.close(descriptor)
    }

    /// Sends raw bytes.
    func send(_ text: String) throws {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeMutableBytes {
                Glibc.send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { throw LoopbackClientError(description: "send: errno \(errno)") }
            offset += sent
        }
    }

    /// The request text of a `GET` with `headers` (a `Host` header is always added).
    static func getRequest(_ path: String, headers: [String: String] = [:]) -> String {
        var text = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        return text + "\r\n"
    }

    /// The request text of `method` with `headers` and `body` (a `Host` header is always added, and a
    /// `Content-Length` one when there is a body).
    static func requestText(
        _ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil
    ) -> String {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
        return text + "\r\n" + (body ?? "")
    }

    /// Sends a `POST` with `body` and reads its response.
    func post(_ path: String, headers: [String: String] = [:], body: String) throws -> LoopbackResponse {
        try send(Self.requestText("POST", path, headers: headers, body: body))
        return try readResponse()
    }

    /// Sends a `GET` and reads its response.
    func get(_ path: String, headers: [String: String] = [:]) throws -> LoopbackResponse {
        try send(Self.getRequest(path, headers: headers))
        return try readResponse()
    }

    /// Reads one response: status line, headers, and `Content-Length` body bytes (fewer if the peer closes).
    func readResponse() throws -> LoopbackResponse {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        while headEnd == nil {
            if let found = find(separator) {
                headEnd = found
            } else if try !receiveMore() {
                throw LoopbackClientError(
                    description: "connection closed before a response head (\(buffer.count) bytes)")
            }
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd! + 4)
        let (status, headers) = try Self.parseHead(head)
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            var body: [UInt8] = []
            while true {
                guard let decoded = Self.dechunk(buffer) else {
                    guard (try? receiveMore()) == true else {
                        return LoopbackResponse(
                            status: status, headers: headers, body: body, contentLength: body.count, isComplete: false)
                    }
                    continue
                }
                body = decoded.body
                buffer.removeFirst(decoded.consumed)
                return LoopbackResponse(
                    status: status, headers: headers, body: body, contentLength: body.count, isComplete: true)
            }
        }
        let length = Int(headers["content-length"] ?? "") ?? 0
        while buffer.count < length {
            guard (try? receiveMore()) == true else { break }
        }
        let body = Array(buffer.prefix(length))
        buffer.removeFirst(body.count)
        return LoopbackResponse(
            status: status, headers: headers, body: body, contentLength: length, isComplete: body.count == length)
    }

    /// A complete chunked body at the start of `bytes` (RFC 9112 §7.1, no extensions or trailers): the data of its
    /// chunks and how many bytes it took, up to and including the last chunk's blank line; `nil` while incomplete.
    static func dechunk(_ bytes: [UInt8]) -> (body: [UInt8], consumed: Int)? {
        var body: [UInt8] = []
        var index = 0
        while true {
            guard
                let lineEnd = (index..<max(index, bytes.count - 1)).first(where: {
                    bytes[$0] == 13 && bytes[$0 + 1] == 10
                }),
                let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self), radix: 16)
            else { return nil }
            let start = lineEnd + 2
            guard bytes.count >= start + size + 2 else { return nil }
            if size == 0 { return (body, start + 2) }
            body.append(contentsOf: bytes[start..<start + size])
            index = start + size + 2
        }
    }

    /// The status and headers (by lowercased name) of a response head, without its blank line.
    static func parseHead(_ head: String) throws -> (status: Int, headers: [String: String]) {
        let lines = head.components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, statusParts[0] == "HTTP/1.1", let status = Int(statusParts[1]) else {
            throw LoopbackClientError(description: "bad status line: \(lines[0])")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        return (status, headers)
    }

    /// How the connection ended after reading everything still buffered.
    enum Ending: Equatable {
        case closed  // orderly FIN
        case reset  // ECONNRESET
        case timedOut  // still open when the receive timeout expired
    }

    /// Reads until the server ends the connection; the bytes that arrived meanwhile are discarded.
    func waitForEnding() -> Ending {
        while true {
            do {
                guard try receiveMore() else { return .closed }
            } catch let error as ReceiveError {
                return error.code == ECONNRESET ? .reset : .timedOut
            } catch {
                return .timedOut
            }
        }
    }

    private struct ReceiveError: Error {
        var code: Int32
    }

    /// Receives more bytes into the buffer; false on end of stream.
    private func receiveMore() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let received = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if received > 0 {
                buffer.append(contentsOf: chunk[0..<received])
                return true
            }
            if received == 0 { return false }
            if errno == EINTR { continue }
            throw ReceiveError(code: errno)
        }
    }

    private func find(_ pattern: [UInt8]) -> Int? {
        guard buffer.count >= pattern.count else { return nil }
        for start in 0...(buffer.count - pattern.count)
        where buffer[start..<start + pattern.count].elementsEqual(pattern) {
            return start
        }
        return nil
    }
}
