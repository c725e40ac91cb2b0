import ConvoyMock
import Foundation
import Glibc
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("MockAPIServer: routing, keep-alive, counters, lifecycle", .timeLimit(.minutes(1)))
struct MockAPIServerTests {
    @Test("200: valid JSON with the same id, byte-identical twice, standard headers")
    func document() throws {
        try withServer { server in
            #expect(server.port != 0)
            #expect(server.baseURL.absoluteString == "http://127.0.0.1:\(server.port)")
            let id = MockConversationStore.sampleIDs(count: 1)[0]
            let client = try LoopbackClient(port: server.port)
            let first = try client.get(conversationPath(id))
            let second = try client.get(conversationPath(id))
            #expect(first.status == 200)
            #expect(try first.jsonObject()["id"] as? String == id)
            #expect(first.body == second.body)
            #expect(Data(first.body) == MockConversationStore.conversationDocument(id: id))
            #expect(first[header: "Content-Type"] == "application/json")
            #expect(first[header: "Content-Length"] == String(first.body.count))
            // 200s are a mix of framings: the second goes chunked, in chunks of 2 KiB, with the same bytes.
            #expect(second.isChunked && second[header: "Content-Length"] == nil && second.isComplete)
            // An IMF-fixdate, as every HTTP server's answer carries.
            let date = try #require(first[header: "Date"])
            #expect(
                date.wholeMatch(of: /(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT/)
                    != nil)
            #expect(first[header: "Connection"] == "keep-alive")
            let correlation = try #require(first[header: "ININ-Correlation-Id"])
            #expect(UUID(uuidString: correlation) != nil)
            #expect(correlation != second[header: "ININ-Correlation-Id"])
            // No limit configured: no budget headers.
            #expect(first[header: "inin-ratelimit-count"] == nil)
        }
    }

    @Test("404 exactly for ids that do not exist; 400 for a non-UUID; 404 for other paths")
    func routing() throws {
        try withServer(MockServerConfiguration(missingPerMille: 300)) { server in
            let client = try LoopbackClient(port: server.port)
            let ids = MockConversationStore.sampleIDs(count: 60, seed: 9)
            var missing = 0
            for id in ids {
                let response = try client.get(conversationPath(id))
                let exists = MockConversationStore.exists(id, missingPerMille: 300)
                #expect(response.status == (exists ? 200 : 404))
                if !exists {
                    missing += 1
                    let body = try response.jsonObject()
                    #expect(body["code"] as? String == "not.found")
                    #expect(body["status"] as? Int == 404)
                    #expect(body["contextId"] as? String == response[header: "ININ-Correlation-Id"])
                    #expect((body["details"] as? [Any])?.isEmpty == true && (body["errors"] as? [Any])?.isEmpty == true)
                }
            }
            #expect(missing > 0)

            let bad = try client.get(conversationPath("not-a-uuid"))
            #expect(bad.status == 400)
            #expect(try bad.jsonObject()["code"] as? String == "bad.request")
            for path in [
                "/", "/api/v2/users/me", conversationPath(ids[0]) + "/wrapups", "/api/v2/conversations/",
            ] {
                let other = try client.get(path)
                #expect(other.status == 404, "\(path)")
                #expect(try other.jsonObject()["code"] as? String == "not.found")
            }
            // A query string does not change the route.
            #expect(
                try client.get(conversationPath(ids[0]) + "?expand=none").status
                    == (MockConversationStore.exists(ids[0], missingPerMille: 300) ? 200 : 404))

            let counters = server.counters()
            #expect(counters.requests == 60 + 1 + 4 + 1)
            #expect(
                counters.responsesByStatus[404, default: 0] == missing + 4
                    + (MockConversationStore.exists(ids[0], missingPerMille: 300) ? 0 : 1))
            #expect(counters.responsesByStatus[400] == 1)
            #expect(counters.hitsByID[ids[0]] == 2)
            #expect(counters.hitsByID[ids[1]] == 1)
            #expect(counters.hitsByID.count == 60)
            #expect(counters.connectionsAccepted == 1)
        }
    }

    @Test("forbiddenRoutes: 403 not.authorized naming no permission, after 401 and 405; other routes answer")
    func forbiddenRoutes() throws {
        let configuration = MockServerConfiguration(
            rateLimit: .fixedWindow(limit: 1_000, window: .seconds(60)),
            oauth: MockOAuth(clientId: "c", clientSecret: "s"),
            forbiddenRoutes: ["conversation", "jobsAvailability"])
        try withServer(configuration) { server in
            let client = try LoopbackClient(port: server.port)
            let id = MockConversationStore.sampleIDs(count: 1)[0]
            #expect(try client.get(conversationPath(id)).status == 401)
            let headers = bearer(try fetchToken(client, id: "c", secret: "s"))
            for path in [conversationPath(id), conversationPath("not-a-uuid")] {
                let response = try client.get(path, headers: headers)
                #expect(response.status == 403, "\(path)")
                let body = try response.jsonObject()
                #expect(Set(body.keys) == ["message", "code", "status", "contextId", "details", "errors"])
                #expect(body["message"] as? String == "You are not authorized to perform the requested action.")
                #expect(body["code"] as? String == "not.authorized")
                #expect(body["status"] as? Int == 403)
                #expect(body["contextId"] as? String == response[header: "ININ-Correlation-Id"])
                #expect((body["details"] as? [Any])?.isEmpty == true && (body["errors"] as? [Any])?.isEmpty == true)
                // Like any /api/v2/ answer under a limit, it carries the budget headers.
                #expect(response[header: "inin-ratelimit-count"] != nil)
            }
            let jobs = "/api/v2/analytics/conversations/details/jobs"
            #expect(try client.get("\(jobs)/availability", headers: headers).status == 403)
            #expect(try client.post("\(jobs)/availability", headers: headers, body: "{}").status == 405)
            // Other routes are not affected.
            #expect(try client.get("/api/v2/analytics/conversations/\(id)/details", headers: headers).status == 200)
            #expect(try client.get(conversationPath(id) + "/recordingmetadata", headers: headers).status == 200)
            let interval = #"{"interval":"2026-01-01T00:00:00Z/2026-02-01T00:00:00Z"}"#
            #expect(try client.post(jobs, headers: headers, body: interval).status == 202)
            let query = try client.post(
                "/api/v2/analytics/conversations/details/query", headers: headers, body: interval)
            #expect(query.status == 200)
            let january = Date(timeIntervalSince1970: 1_767_225_600)..<Date(timeIntervalSince1970: 1_769_904_000)
            #expect(
                try query.jsonObject()["totalHits"] as? Int
                    == MockConversationStore.conversations(inInterval: january).count)

            let counters = server.counters()
            #expect(counters.responsesByStatus[403] == 3)
            #expect(counters.responsesByStatus[401] == 1)
            #expect(counters.requestsByPath["conversation"] == 3)
            #expect(counters.requestsByPath["jobsAvailability"] == 2)
            #expect(counters.requestsByPath["analytics"] == 1)
            #expect(counters.requestsByPath["recordingmetadata"] == 1)
            #expect(counters.requestsByPath["jobsSubmit"] == 1)
            #expect(counters.requestsByPath["analyticsQuery"] == 1)
            #expect(counters.hitsByID[id] == 2)
        }
    }

    @Test("keep-alive: sequential and pipelined requests on one connection, answered in order")
    func keepAlive() throws {
        try withServer { server in
            let ids = MockConversationStore.sampleIDs(count: 5, seed: 5)
            let client = try LoopbackClient(port: server.port)
            #expect(try client.get(conversationPath(ids[0])).status == 200)
            // Four requests in one write, one of them with a body, back to back.
            let post =
                "POST \(conversationPath(ids[1])) HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n[\"a\",\"b\"] "
            try client.send(
                LoopbackClient.getRequest(conversationPath(ids[2])) + post
                    + LoopbackClient.getRequest(conversationPath(ids[3]))
                    + LoopbackClient.getRequest(conversationPath(ids[4])))
            let responses = try (0..<4).map { _ in try client.readResponse() }
            #expect(responses.map(\.status) == [200, 405, 200, 200])
            #expect(try responses[0].jsonObject()["id"] as? String == ids[2])
            #expect(try responses[2].jsonObject()["id"] as? String == ids[3])
            #expect(try responses[3].jsonObject()["id"] as? String == ids[4])
            #expect(server.counters().connectionsAccepted == 1)
            #expect(server.counters().requests == 5)
        }
    }

    @Test("a request split across several writes is reassembled")
    func splitRequest() throws {
        try withServer { server in
            let id = MockConversationStore.sampleIDs(count: 1)[0]
            let client = try LoopbackClient(port: server.port)
            let request = LoopbackClient.getRequest(conversationPath(id))
            let middle = request.index(request.startIndex, offsetBy: 17)
            try client.send(String(request[..<middle]))
            // A round trip on another connection instead of a sleep: the first half was readable before that
            // request was sent, so the loop reads it no later than in the iteration that answers the other one.
            let other = try LoopbackClient(port: server.port)
            #expect(try other.get(conversationPath(id)).status == 200)
            #expect(server.counters().requests == 1, "half a request is not a request")
            try client.send(String(request[middle...]))
            #expect(try client.readResponse().status == 200)
            #expect(server.counters().requests == 2)
        }
    }

    @Test("Expect: 100-continue gets an interim 100 before the body is sent")
    func expectContinue() throws {
        try withServer { server in
            let id = MockConversationStore.sampleIDs(count: 1)[0]
            let client = try LoopbackClient(port: server.port)
            try client.send(
                "POST \(conversationPath(id)) HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
            #expect(try client.readResponse().status == 100)
            try client.send("[]")
            #expect(try client.readResponse().status == 405)
            #expect(try client.get(conversationPath(id)).status == 200)
        }
    }

    @Test("Connection: close is honoured: the header is echoed and the server closes")
    func connectionClose() throws {
        try withServer { server in
            let id = MockConversationStore.sampleIDs(count: 1)[0]
            let client = try LoopbackClient(port: server.port)
            let response = try client.get(conversationPath(id), headers: ["Connection": "close"])
            #expect(response.status == 200)
            #expect(response[header: "Connection"] == "close")
            #expect(client.waitForEnding() == .closed)
        }
    }

    @Test("malformed requests get 400 and the connection closes")
    func malformed() throws {
        try withServer { server in
            let client = try LoopbackClient(port: server.port)
            try client.send("NONSENSE\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 400)
            #expect(response[header: "Connection"] == "close")
            #expect(client.waitForEnding() == .closed)
        }
    }

    @Test("URLSession works against the server")
    func urlSession() async throws {
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let id = MockConversationStore.sampleIDs(count: 1)[0]
        let url = server.baseURL.appendingPathComponent("api/v2/conversations/\(id)")
        let (data, response) = try await URLSession.shared.data(from: url)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(data == MockConversationStore.conversationDocument(id: id))
    }

    @Test("shutdown is clean, idempotent, and frees the port; several servers coexist")
    func shutdown() throws {
        let first = try MockAPIServer.start(MockServerConfiguration())
        let second = try MockAPIServer.start(MockServerConfiguration())
        #expect(first.port != second.port)
        let idle = try LoopbackClient(port: first.port)  // an open connection must not block shutdown
        _ = idle
        first.shutdown()
        first.shutdown()
        #expect(throws: LoopbackClientError.self) { try LoopbackClient(port: first.port) }
        // The port can be bound again at once.
        let again = try MockAPIServer.start(MockServerConfiguration(port: first.port))
        #expect(again.port == first.port)
        again.shutdown()
        // Concurrent shutdowns are safe too.
        DispatchQueue.concurrentPerform(iterations: 4) { _ in second.shutdown() }
    }

    @Test("start fails with a MockServerError for a bad host or a taken port")
    func startErrors() throws {
        #expect(throws: MockServerError.self) { try MockAPIServer.start(MockServerConfiguration(host: "localhost")) }
        try withServer { server in
            #expect(throws: MockServerError.self) {
                try MockAPIServer.start(MockServerConfiguration(port: server.port))
            }
        }
    }

    @Test("many concurrent connections are all served")
    func concurrentConnections() throws {
        try withServer { server in
            let ids = MockConversationStore.sampleIDs(count: 16)
            let failures = Atomic<Int>(0)
            let port = server.port
            DispatchQueue.concurrentPerform(iterations: 16) { index in
                do {
                    let client = try LoopbackClient(port: port)
                    for _ in 0..<10 where try client.get(conversationPath(ids[index])).status != 200 {
                        failures.add(1, ordering: .relaxed)
                    }
                } catch {
                    failures.add(1, ordering: .relaxed)
                }
            }
            #expect(failures.load(ordering: .relaxed) == 0)
            #expect(server.counters().responsesByStatus[200] == 160)
            #expect(server.counters().connectionsAccepted == 16)
        }
    }
}
