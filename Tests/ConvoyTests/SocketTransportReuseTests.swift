import Convoy
import Foundation
import Glibc
import Synchronization
import Testing

/// When `SocketTransport` may send a request on a kept-alive connection, and when it must open a
/// new one: the rules that keep one request's answer from being read as another's.
@Suite(.timeLimit(.minutes(1))) struct SocketTransportReuseTests {
    /// A server that answers every request on a connection with `answer(n)` for the n-th request
    /// it read there (n from 1), keeping the connection open.
    static func server(
        _ answer: @escaping @Sendable (_ n: Int, ScriptedServer.Connection) -> Void
    ) throws -> ScriptedServer {
        try ScriptedServer { connection in
            var n = 0
            while true {
                let request = connection.readRequest()
                guard !request.isEmpty else { break }
                n += 1
                answer(n, connection)
            }
            connection.close()
        }
    }

    static func body(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test func anAnswerNotReadToItsEndNeverCarriesTheNextRequest() async throws {
        // The first answer is larger than the limit: the client stops reading part-way, so the
        // rest of it is still on the connection.
        let served = Atomic<Int>(0)
        let server = try Self.server { _, connection in
            if served.add(1, ordering: .relaxed).newValue == 1 {
                connection.write(
                    "HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n" + String(repeating: "x", count: 4000))
            } else {
                connection.write("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond")
            }
        }
        defer { server.close() }
        let transport = SocketTransport(maxConnections: 1, limits: HTTPLimits(maxResponseBytes: 1024))
        await #expect(throws: SocketTransportError.responseTooLarge(limit: 1024)) {
            try await transport.send(HTTPRequest(url: URL(string: "\(server.url)/a")!))
        }
        let second = try await transport.send(HTTPRequest(url: URL(string: "\(server.url)/b")!))
        #expect(Self.body(second) == "second", "its own answer, from a fresh connection")
        #expect(server.connections == 2)
    }

    @Test func anAnswerThatArrivesUnaskedOnAnIdleConnectionRetiresIt() async throws {
        // After each answer the server sends another nobody asked for, a moment later.
        let server = try Self.server { n, connection in
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nanswer\(n)")
            usleep(20_000)
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray")
        }
        defer { server.close() }
        let transport = SocketTransport(maxConnections: 1)
        for path in ["a", "b", "c"] {
            let response = try await transport.send(HTTPRequest(url: URL(string: "\(server.url)/\(path)")!))
            #expect(Self.body(response) == "answer1", "each request answered by its own connection's first answer")
            try await Task.sleep(for: .milliseconds(100))  // the stray arrives while the connection is idle
        }
        #expect(server.connections == 3)
    }

    @Test func aKeptAliveConnectionGoesOnlyToItsOwnHost() async throws {
        let seen = Mutex<[String]>([])
        func named(_ name: String) throws -> ScriptedServer {
            try Self.server { _, connection in
                seen.withLock { $0.append(name) }
                connection.write("HTTP/1.1 200 OK\r\nContent-Length: \(name.utf8.count)\r\n\r\n\(name)")
            }
        }
        let first = try named("first")
        let second = try named("second")
        defer {
            first.close()
            second.close()
        }
        let transport = SocketTransport(maxConnections: 1)
        for server in [first, second, first, second] {
            let response = try await transport.send(
                HTTPRequest(
                    url: URL(string: "\(server.url)/a")!, headers: ["Authorization": "Bearer for-\(server.port)"]))
            #expect(Self.body(response) == (server === first ? "first" : "second"))
        }
        #expect(seen.withLock { $0 } == ["first", "second", "first", "second"])
    }

    @Test func aTrickleEndsAtTheRequestTimeoutThoughBytesKeepMoving() async throws {
        let server = try ScriptedServer { connection in
            _ = connection.readRequest()
            for byte in "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n\(String(repeating: "y", count: 40))" {
                connection.write(String(byte))
                usleep(20_000)
            }
            connection.close()
        }
        defer { server.close() }
        let transport = SocketTransport(
            maxConnections: 1, timeout: .seconds(5), limits: HTTPLimits(requestTimeout: .milliseconds(300)))
        await #expect(throws: SocketTransportError.requestTimedOut(seconds: 0.3)) {
            try await transport.send(HTTPRequest(url: URL(string: "\(server.url)/a")!))
        }
    }
}
