import Convoy
import ConvoyMock
import Foundation
import Synchronization
import Testing

/// `SocketTransport` against the mock and against servers that send exactly the bytes a class of
/// server sends: chunked bodies, interim answers, bodies ended by the close, idle connections closed
/// under the client, answers cut short, silence.
@Suite(.timeLimit(.minutes(1))) struct SocketTransportTests {
    private func get(_ transport: SocketTransport, _ url: String) async throws -> HTTPResponse {
        try await transport.send(HTTPRequest(url: URL(string: url)!))
    }

    private func failure(_ transport: SocketTransport, _ url: String) async -> SocketTransportError? {
        do {
            _ = try await get(transport, url)
            return nil
        } catch {
            return error as? SocketTransportError
        }
    }

    @Test func manyConcurrentRequestsLandEachDocumentOnFewKeptAliveConnections() async throws {
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let ids = MockConversationStore.sampleIDs(count: 400)
        let transport = SocketTransport(maxConnections: 8)
        let bodies = try await withThrowingTaskGroup(of: (String, HTTPResponse).self) { group in
            for id in ids {
                group.addTask {
                    let url = server.baseURL.appendingPathComponent("api/v2/conversations/\(id)")
                    return (id, try await transport.send(HTTPRequest(url: url, headers: ["Authorization": "Bearer t"])))
                }
            }
            return try await group.reduce(into: [String: HTTPResponse]()) { $0[$1.0] = $1.1 }
        }
        #expect(bodies.count == 400)
        for id in ids {
            #expect(bodies[id]?.status == 200)
            #expect(bodies[id]?.body == MockConversationStore.conversationDocument(id: id))
            #expect(bodies[id]?.headers["inin-correlation-id"]?.count == 36)
        }
        let counters = server.counters()
        #expect(counters.requests == 400)
        #expect(counters.connectionsAccepted <= 8, "keep-alive: at most one connection a worker")
    }

    @Test func aPostSendsItsBodyWithItsLengthAndTheHeadersAsGiven() async throws {
        let received = Mutex<String>("")
        let server = try ScriptedServer { connection in
            let request = connection.readRequest(bodyBytes: 13)
            received.withLock { $0 = request }
            connection.write("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
            connection.close()
        }
        defer { server.close() }
        let transport = SocketTransport(maxConnections: 1)
        let response = try await transport.send(
            HTTPRequest(
                method: "POST", url: URL(string: "\(server.url)/oauth/token?x=a%20b")!,
                headers: ["Content-Type": "application/x-www-form-urlencoded", "Authorization": "Basic c2VjcmV0"],
                body: Data("grant_type=cc".utf8)))
        #expect(response.status == 201)
        #expect(response.body == Data("ok".utf8))
        #expect(
            received.withLock { $0 }
                == "POST /oauth/token?x=a%20b HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\n"
                + "Authorization: Basic c2VjcmV0\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: 13\r\n\r\ngrant_type=cc")
    }

    @Test func aChunkedBodyAfterAnInterimAnswerIsJoinedAndTheConnectionKept() async throws {
        let server = try ScriptedServer { connection in
            for _ in 0..<2 {
                _ = connection.readRequest()
                connection.write("HTTP/1.1 100 Continue\r\n\r\n")
                connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nRetry-After: 3\r\n\r\n")
                connection.write("5;name=value\r\n{\"id\"\r\n")
                connection.write("3\r\n:1}\r\n0\r\nX-Trailer: yes\r\n\r\n")
            }
            connection.close()
        }
        defer { server.close() }
        let transport = SocketTransport(maxConnections: 1)
        for _ in 0..<2 {
            let response = try await get(transport, "\(server.url)/a")
            #expect(response.status == 200)
            #expect(response.body == Data("{\"id\":1}".utf8))
            #expect(response.headers["retry-after"] == "3")
        }
        #expect(server.connections == 1)
    }

    @Test func aBodyWithNeitherLengthNorChunksEndsAtTheCloseAndTheConnectionIsNotReused() async throws {
        let server = try ScriptedServer { connection in
            _ = connection.readRequest()
            connection.write("HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\n\r\nslow ")
            connection.write("down")
            connection.close()
        }
        defer { server.close() }
        let transport = SocketTransport(maxConnections: 1)
        for _ in 0..<2 {
            let response = try await get(transport, "\(server.url)/a")
            #expect(response.status == 429)
            #expect(response.body == Data("slow down".utf8))
        }
        #expect(server.connections == 2)
    }

    @Test func anIdleConnectionClosedByTheServerIsReplacedWithoutAFailure() async throws {
        // The server answers one request a connection with keep-alive, then closes it unasked.
        let server = try ScriptedServer { connection in
            _ = connection.readRequest()
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx")
            usleep(50_000)
            connection.close()
        }
        defer { server.close() }
        let transport = SocketTransport(maxConnections: 1)
        for _ in 0..<3 {
            let response = try await get(transport, "\(server.url)/a")
            #expect(response.body == Data("x".utf8))
            try await Task.sleep(for: .milliseconds(150))
        }
        #expect(server.connections == 3)
    }

    @Test func anAnswerCutShortFailsWithHowMuchCameAndIsNotRetried() async throws {
        let server = try ScriptedServer { connection in
            _ = connection.readRequest()
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"id\":\"trunc")
            connection.close()
        }
        defer { server.close() }
        let transport = SocketTransport(maxConnections: 1)
        #expect(await failure(transport, "\(server.url)/a") == .closedMidAnswer("12 of 100 bytes of the body"))
        #expect(server.connections == 1)
    }

    @Test func aResetBeforeAnyAnswerOnAFreshConnectionFails() async throws {
        let server = try ScriptedServer { connection in
            _ = connection.readRequest()
            connection.close()
        }
        defer { server.close() }
        let transport = SocketTransport(maxConnections: 1)
        #expect(await failure(transport, "\(server.url)/a") == .closedBeforeAnswer)
        #expect(server.connections == 1, "a fresh connection is not retried: the server may have acted")
    }

    @Test func garbageInsteadOfHTTPIsAMalformedAnswer() async throws {
        let server = try ScriptedServer { connection in
            _ = connection.readRequest()
            connection.write("SSH-2.0-OpenSSH_9.2\r\n\r\n")
            connection.close()
        }
        defer { server.close() }
        let transport = SocketTransport(maxConnections: 1)
        #expect(await failure(transport, "\(server.url)/a") == .malformedAnswer("status line \"SSH-2.0-OpenSSH_9.2\""))
    }

    @Test func repeatedLengthsMustAgreeAndOnlyChunkedIsUnderstood() async throws {
        let answers = [
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx",
        ]
        let served = Mutex(0)
        let server = try ScriptedServer { connection in
            _ = connection.readRequest()
            let index = served.withLock { count in
                count += 1
                return count - 1
            }
            connection.write(answers[index])
            connection.close()
        }
        defer { server.close() }
        let transport = SocketTransport(maxConnections: 1)
        #expect(try await get(transport, "\(server.url)/a").body == Data("ok".utf8))
        #expect(await failure(transport, "\(server.url)/a") == .malformedAnswer("Content-Length \"2, 3\""))
        #expect(await failure(transport, "\(server.url)/a") == .malformedAnswer("transfer coding \"gzip\""))
    }

    @Test func aSilentServerTimesOut() async throws {
        let server = try ScriptedServer { connection in
            _ = connection.readRequest()
            usleep(2_000_000)
            connection.close()
        }
        defer { server.close() }
        let transport = SocketTransport(maxConnections: 1, timeout: .milliseconds(200))
        #expect(await failure(transport, "\(server.url)/a") == .timedOut(seconds: 0.2))
    }

    @Test func aHeaderThatWouldSplitTheRequestIsRefusedBeforeAnythingIsSent() async throws {
        let server = try ScriptedServer { connection in connection.close() }
        defer { server.close() }
        let transport = SocketTransport(maxConnections: 1)
        await #expect(throws: SocketTransportError.invalidRequestHeader("X-Note")) {
            try await transport.send(
                HTTPRequest(url: URL(string: "\(server.url)/a")!, headers: ["X-Note": "a\r\nHost: evil"]))
        }
        await #expect(throws: SocketTransportError.unsupportedScheme("ftp")) {
            try await transport.send(HTTPRequest(url: URL(string: "ftp://127.0.0.1:1/a")!))
        }
    }

    @Test func nothingListeningIsACannotConnect() async throws {
        let server = try ScriptedServer { connection in connection.close() }
        let port = server.port
        server.close()
        let transport = SocketTransport(maxConnections: 1)
        let error = await failure(transport, "http://127.0.0.1:\(port)/a")
        guard case .cannotConnect(let endpoint, _) = error else {
            Issue.record("expected cannotConnect, got \(String(describing: error))")
            return
        }
        #expect(endpoint == "http://127.0.0.1:\(port)")
    }

    @Test func cancellingARunningAndAQueuedRequestEndsBothWithCancellationError() async throws {
        let server = try ScriptedServer { connection in
            _ = connection.readRequest()
            usleep(3_000_000)
            connection.close()
        }
        defer { server.close() }
        let transport = SocketTransport(maxConnections: 1, timeout: .seconds(30))
        let url = URL(string: "\(server.url)/a")!
        let running = Task { try await transport.send(HTTPRequest(url: url)) }
        while server.connections == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let queued = Task { try await transport.send(HTTPRequest(url: url)) }
        try await Task.sleep(for: .milliseconds(50))
        queued.cancel()
        await #expect(throws: CancellationError.self) { try await queued.value }
        running.cancel()
        await #expect(throws: CancellationError.self) { try await running.value }
        #expect(server.connections == 1, "the queued request never went")
        // The worker is free again for the next request.
        let next = Task { try await transport.send(HTTPRequest(url: url)) }
        while server.connections < 2 { try await Task.sleep(for: .milliseconds(5)) }
        next.cancel()
        await #expect(throws: CancellationError.self) { try await next.value }
    }
}
