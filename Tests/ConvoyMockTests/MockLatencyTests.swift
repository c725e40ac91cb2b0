import ConvoyMock
import Foundation
import Testing

@testable import ConvoyMock

@Suite("MockLatency", .timeLimit(.minutes(1)))
struct MockLatencyTests {
    private func samples(_ latency: MockLatency, count: Int = 2_000, seed: UInt64 = 1) -> [Double] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in Double(latency.sampleNanoseconds(using: &generator)) / 1e6 }
    }

    @Test("distributions: bounds, medians, tail share, determinism")
    func distributions() {
        #expect(samples(.none).allSatisfy { $0 == 0 })
        #expect(samples(.fixed(.milliseconds(7))).allSatisfy { $0 == 7 })
        let uniform = samples(.uniform(.milliseconds(20), .milliseconds(10)))
        #expect(uniform.allSatisfy { (10..<20).contains($0) })
        #expect(abs(uniform.reduce(0, +) / Double(uniform.count) - 15) < 0.5)
        let logNormal = samples(.logNormal(median: .milliseconds(50), sigma: 0.5)).sorted()
        #expect(abs(logNormal[logNormal.count / 2] - 50) < 5)
        #expect(logNormal.allSatisfy { $0 > 0 })
        let tail = samples(.longTail(base: .milliseconds(5), tailProbability: 0.1, tail: .milliseconds(100)))
        #expect(tail.allSatisfy { $0 == 5 || $0 == 105 })
        #expect((140...260).contains(tail.filter { $0 == 105 }.count))
        #expect(
            samples(.logNormal(median: .milliseconds(50), sigma: 1), seed: 3)
                == samples(.logNormal(median: .milliseconds(50), sigma: 1), seed: 3))
    }

    @Test("an hour-long delay on one connection holds up no other connection")
    func nonBlocking() throws {
        let id = MockConversationStore.sampleIDs(count: 1)[0]
        // Half the answers wait an hour, the others 1 ms. The responder itself says which seed makes the first
        // answer the slow one and the next two fast (the server draws the same sequence for the same requests).
        func configuration(seed: UInt64) -> MockServerConfiguration {
            MockServerConfiguration(
                latency: .longTail(base: .milliseconds(1), tailProbability: 0.5, tail: .seconds(3_600)), seed: seed)
        }
        let slowThenFast: [Duration] = [.seconds(3_600), .milliseconds(1), .milliseconds(1)]
        let seed = try #require(
            (UInt64(1)...1_000).first { seed in
                var oracle = ResponderHarness(configuration(seed: seed))
                return (0..<3).map { _ in (try? oracle.get(conversationPath(id), at: .zero))?.delay } == slowThenFast
            })
        try withServer(configuration(seed: seed)) { server in
            let slow = try LoopbackClient(port: server.port)
            try slow.send(LoopbackClient.getRequest(conversationPath(id)))
            try waitUntil { server.counters().requests == 1 }
            // The slow answer is scheduled for an hour from now; these two must still be answered (a blocked loop
            // would leave them to the client's receive timeout, and the test fails).
            for _ in 0..<2 {
                let fast = try LoopbackClient(port: server.port)
                let response = try fast.get(conversationPath(id))
                #expect(response.status == 200)
                #expect(Data(response.body) == MockConversationStore.conversationDocument(id: id))
            }
            let counters = server.counters()
            #expect(counters.requests == 3)
            #expect(counters.responsesByStatus == [200: 2], "the slow answer is still waiting for its hour")
            #expect(counters.connectionsAccepted == 3)
        }
    }

    @Test("pipelined responses with random latency still leave in request order")
    func ordering() throws {
        let configuration = MockServerConfiguration(latency: .uniform(.milliseconds(1), .milliseconds(60)), seed: 5)
        try withServer(configuration) { server in
            let ids = MockConversationStore.sampleIDs(count: 12, seed: 8)
            let client = try LoopbackClient(port: server.port)
            try client.send(ids.map { LoopbackClient.getRequest(conversationPath($0)) }.joined())
            for id in ids {
                #expect(try client.readResponse().jsonObject()["id"] as? String == id)
            }
        }
    }

    @Test("rate limiting happens at arrival, before the delay")
    func limitBeforeDelay() throws {
        // One request per 1 s window; every answer leaves 1.1 s after its request arrived, in a later window.
        var server = ResponderHarness(
            MockServerConfiguration(
                rateLimit: .fixedWindow(limit: 1, window: .seconds(1)), latency: .fixed(.milliseconds(1_100))))
        let id = MockConversationStore.sampleIDs(count: 1)[0]
        let first = try server.get(conversationPath(id), at: .milliseconds(500))
        #expect(first.status == 200 && first[header: "inin-ratelimit-count"] == "1")
        #expect(first.delay == .milliseconds(1_100))
        // Arrives in window 0, which is spent, though its answer leaves at 2.0 s, in window 2: still a 429, with
        // the wait counted from arrival.
        let second = try server.get(conversationPath(id), at: .milliseconds(900))
        #expect(second.status == 429 && second[header: "Retry-After"] == "1")
        #expect(second.delay == .milliseconds(1_100))
        let third = try server.get(conversationPath(id), at: .seconds(1))
        #expect(third.status == 200 && third[header: "inin-ratelimit-count"] == "1")
    }
}
