import ConvoyMock
import Foundation
import Testing

@Suite("MockAPIServer: fault injection", .timeLimit(.minutes(1)))
struct MockFaultsTests {
    private static let id = MockConversationStore.sampleIDs(count: 1, seed: 12)[0]

    @Test("pretty-print fault: multi-line, indented, valid JSON equal to the compact document")
    func prettyPrint() throws {
        try withServer(MockServerConfiguration(faults: MockFaults(prettyPrintRate: 1))) { server in
            let client = try LoopbackClient(port: server.port)
            let response = try client.get(conversationPath(Self.id))
            #expect(response.status == 200)
            #expect(response.bodyText.split(separator: "\n").count > 20)
            #expect(response.bodyText.contains("\n  \"id\": "))
            let pretty = try JSONSerialization.jsonObject(with: Data(response.body)) as? NSDictionary
            let compact =
                try JSONSerialization.jsonObject(with: MockConversationStore.conversationDocument(id: Self.id))
                as? NSDictionary
            #expect(pretty == compact)
            // The connection stays usable.
            #expect(try client.get(conversationPath(Self.id)).status == 200)
        }
    }

    @Test("truncate fault: full Content-Length, short body, then the connection closes")
    func truncate() throws {
        try withServer(MockServerConfiguration(faults: MockFaults(truncateRate: 1))) { server in
            let client = try LoopbackClient(port: server.port)
            let response = try client.get(conversationPath(Self.id))
            #expect(response.status == 200)
            #expect(!response.isComplete)
            #expect(response.contentLength == MockConversationStore.conversationDocument(id: Self.id).count)
            #expect(response.body.count == response.contentLength / 2)
            #expect((try? JSONSerialization.jsonObject(with: Data(response.body))) == nil)
            #expect(server.counters().responsesByStatus[200] == 1)
        }
    }

    @Test("reset fault: no response, the connection is reset")
    func reset() throws {
        try withServer(MockServerConfiguration(faults: MockFaults(resetRate: 1))) { server in
            let client = try LoopbackClient(port: server.port)
            try client.send(LoopbackClient.getRequest(conversationPath(Self.id)))
            #expect(client.waitForEnding() == .reset)
            let counters = server.counters()
            #expect(counters.requests == 1)
            #expect(counters.responsesByStatus.isEmpty)
            #expect(counters.hitsByID[Self.id] == 1)
        }
    }

    @Test("server-error fault: 500/502/503 with a Genesys body and no Retry-After")
    func serverErrors() throws {
        try withServer(MockServerConfiguration(faults: MockFaults(serverErrorRate: 1))) { server in
            let client = try LoopbackClient(port: server.port)
            var seen = Set<Int>()
            for _ in 0..<30 {
                let response = try client.get(conversationPath(Self.id))
                #expect([500, 502, 503].contains(response.status))
                #expect(response[header: "Retry-After"] == nil)
                #expect(try response.jsonObject()["status"] as? Int == response.status)
                seen.insert(response.status)
            }
            #expect(seen == [500, 502, 503])
        }
    }

    @Test("fault rates are honoured approximately; 429s never get faults")
    func rates() throws {
        let configuration = MockServerConfiguration(faults: MockFaults(serverErrorRate: 0.3), seed: 99)
        try withServer(configuration) { server in
            let client = try LoopbackClient(port: server.port)
            let errors = try (0..<400).filter { _ in try client.get(conversationPath(Self.id)).status >= 500 }.count
            #expect((80...160).contains(errors))
        }
        let limited = MockServerConfiguration(
            rateLimit: .fixedWindow(limit: 0, window: .seconds(60)),
            faults: MockFaults(serverErrorRate: 1, resetRate: 0))
        try withServer(limited) { server in
            let client = try LoopbackClient(port: server.port)
            #expect(try client.get(conversationPath(Self.id)).status == 429)
        }
    }
}
