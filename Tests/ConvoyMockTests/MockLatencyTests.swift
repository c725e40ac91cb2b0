import ConvoyMock
import Foundation
import Testing

@testable import ConvoyMock

@Suite("MockLatency")
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

    @Test("latency delays the response but never blocks the loop for other connections")
    func nonBlocking() throws {
        let configuration = MockServerConfiguration(latency: .fixed(.milliseconds(300)))
        try withServer(configuration) { server in
            let id = MockConversationStore.sampleIDs(count: 1)[0]
            let clients = try (0..<4).map { _ in try LoopbackClient(port: server.port) }
            let start = ContinuousClock.now
            for client in clients { try client.send(LoopbackClient.getRequest(conversationPath(id))) }
            for client in clients { #expect(try client.readResponse().status == 200) }
            let elapsed = ContinuousClock.now - start
            #expect(elapsed >= .milliseconds(300))
            // Served one after another, four delayed responses would take at least 1.2 s.
            #expect(elapsed < .milliseconds(700), "4 delayed responses took \(elapsed): the loop blocked")
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
        // The second request arrives in window 0 but its response leaves in window 1: it must still be a 429.
        let configuration = MockServerConfiguration(
            rateLimit: .fixedWindow(limit: 1, window: .seconds(1)), latency: .fixed(.milliseconds(1_100)))
        try withServer(configuration) { server in
            let id = MockConversationStore.sampleIDs(count: 1)[0]
            let client = try LoopbackClient(port: server.port)
            let start = ContinuousClock.now
            try client.send(
                LoopbackClient.getRequest(conversationPath(id)) + LoopbackClient.getRequest(conversationPath(id)))
            let first = try client.readResponse()
            #expect(ContinuousClock.now - start >= .milliseconds(1_100))
            let second = try client.readResponse()
            #expect(first.status == 200 && first[header: "inin-ratelimit-count"] == "1")
            #expect(second.status == 429)
        }
    }
}
