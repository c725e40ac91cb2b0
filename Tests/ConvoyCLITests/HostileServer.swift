import Convoy
import Foundation
import Glibc
import Synchronization

/// A loopback HTTP server that breaks the rules on purpose: it reads each request on a kept-alive
/// connection and lets `behaviour` answer with whatever bytes a broken or hostile server sends
/// (two answers for one request, a body after a 204, a length of 2⁶³ − 1, an endless trickle),
/// so an end-to-end test can hold `convoy` against the class of server, not the mock.
final class HostileServer: Sendable {
    /// One request as the server read it.
    struct Request: Sendable {
        let method: String
        let path: String
        /// The conversation id: the path's first component that is a UUID.
        var id: String { HostileServer.conversationID(in: path) }
        /// The request's body (a bulk request's message ids).
        let body: String
        /// How many times this id has been requested, this one included.
        let attempt: Int
    }

    /// What the behaviour does with the connection after answering.
    enum Next {
        case keepOpen, close
    }

    /// Writes to one accepted connection.
    struct Connection: Sendable {
        let descriptor: Int32

        /// Sends `bytes`; false once the client has gone.
        @discardableResult func write(_ bytes: [UInt8]) -> Bool {
            var sent = 0
            while sent < bytes.count {
                let count = bytes.withUnsafeBytes {
                    send(descriptor, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL))
                }
                guard count > 0 else { return false }
                sent += count
            }
            return true
        }

        @discardableResult func write(_ text: String) -> Bool { write(Array(text.utf8)) }
    }

    let port: UInt16
    private let listener: Int32
    private let attempts = Mutex<[String: Int]>([:])
    private let stopped = Atomic<Bool>(false)

    var url: String { "http://127.0.0.1:\(port)" }

    /// Requests per id so far.
    var requestsByID: [String: Int] { attempts.withLock { $0 } }

    init(_ behaviour: @escaping @Sendable (Request, Connection) -> Next) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw -> Bool in
                bind(descriptor, raw, length) == 0 && listen(descriptor, 128) == 0
                    && getsockname(descriptor, raw, &length) == 0
            }
        }
        guard bound else { throw ConvoyError.configuration("cannot listen on 127.0.0.1") }
        listener = descriptor
        port = UInt16(bigEndian: address.sin_port)
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(descriptor, nil, nil)
                guard client >= 0 else { return }
                Thread.detachNewThread { [self] in serve(client, behaviour) }
            }
        }
    }

    private func serve(_ client: Int32, _ behaviour: @Sendable (Request, Connection) -> Next) {
        defer {
            shutdown(client, Int32(SHUT_RDWR))
            Glibc.close(client)
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while !stopped.load(ordering: .relaxed) {
            guard let headEnd = received.firstRange(of: Array("\r\n\r\n".utf8)) else {
                let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { return }
                received.append(contentsOf: chunk[0..<count])
                continue
            }
            let head = String(decoding: received[..<headEnd.lowerBound], as: UTF8.self)
            let lines = head.split(separator: "\r\n")
            let bodyLength =
                lines.dropFirst().first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            guard received.count >= headEnd.upperBound + bodyLength else {
                let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { return }
                received.append(contentsOf: chunk[0..<count])
                continue
            }
            let body = String(decoding: received[headEnd.upperBound..<(headEnd.upperBound + bodyLength)], as: UTF8.self)
            received.removeFirst(headEnd.upperBound + bodyLength)
            let requestLine = lines.first?.split(separator: " ") ?? []
            guard requestLine.count >= 2 else { return }
            let path = String(requestLine[1])
            let id = Self.conversationID(in: path)
            let attempt = attempts.withLock { counts -> Int in
                counts[id, default: 0] += 1
                return counts[id]!
            }
            let request = Request(method: String(requestLine[0]), path: path, body: body, attempt: attempt)
            guard behaviour(request, Connection(descriptor: client)) == .keepOpen else { return }
        }
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
    }

    static func conversationID(in path: String) -> String {
        path.split(separator: "/").first { UUID(uuidString: String($0)) != nil }.map(String.init) ?? ""
    }

    // MARK: - Answers

    /// The conversation document the server holds for `id`.
    static func document(_ id: String) -> String {
        #"{"id":"\#(id)","name":"Conversation \#(id)","participants":[]}"#
    }

    /// A well-formed 200 carrying `body`, framed by its length.
    static func ok(_ body: String) -> String {
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
    }
}
