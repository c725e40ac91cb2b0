import ConvoyMock
import Foundation
import Testing

@Suite("MockAPIServer: rate limiting over HTTP")
struct MockRateLimitTests {
    private static let id = MockConversationStore.sampleIDs(count: 1, seed: 11)[0]

    @Test("fixed window of 5: exactly 5 × 200, then 429 with Retry-After and Genesys's exact body")
    func fixedWindowOfFive() throws {
        let configuration = MockServerConfiguration(rateLimit: .fixedWindow(limit: 5, window: .seconds(60)))
        try withServer(configuration) { server in
            let client = try LoopbackClient(port: server.port)
            for count in 1...5 {
                let response = try client.get(conversationPath(Self.id))
                #expect(response.status == 200)
                #expect(response[header: "inin-ratelimit-count"] == String(count))
                #expect(response[header: "inin-ratelimit-allowed"] == "5")
                let reset = try #require(Int(response[header: "inin-ratelimit-reset"] ?? ""))
                #expect((1...60).contains(reset))
                #expect(response[header: "Retry-After"] == nil)
            }
            for _ in 0..<3 {
                let response = try client.get(conversationPath(Self.id))
                #expect(response.status == 429)
                let retryAfter = try #require(Int(response[header: "Retry-After"] ?? ""))
                #expect((1...60).contains(retryAfter))
                #expect(response[header: "inin-ratelimit-count"] == "5")  // 429s consume nothing
                #expect(response[header: "Connection"] == "keep-alive")
                let contextID = try #require(response[header: "ININ-Correlation-Id"])
                let expected =
                    #"{"message":"Rate limit exceeded the maximum. Retry the request in ["# + String(retryAfter)
                    + #"] seconds","code":"too.many.requests.retry.after","status":429,"contextId":""# + contextID
                    + #"","details":[],"errors":[]}"#
                #expect(response.bodyText == expected)
            }
            // Non-API paths are not limited; API paths are limited before routing.
            #expect(try client.get("/health").status == 404)
            #expect(try client.get(conversationPath("not-a-uuid")).status == 429)

            let counters = server.counters()
            #expect(counters.requests == 10)
            #expect(counters.responsesByStatus == [200: 5, 429: 4, 404: 1])
            #expect(counters.tooManyRequests == 4)
            #expect(counters.hitsByID == [Self.id: 8])
            #expect(counters.connectionsAccepted == 1)
        }
    }

    @Test("a short window resets: budget is back after the boundary")
    func windowResets() throws {
        let configuration = MockServerConfiguration(rateLimit: .fixedWindow(limit: 2, window: .milliseconds(300)))
        try withServer(configuration) { server in
            let client = try LoopbackClient(port: server.port)
            var statuses = try (0..<6).map { _ in try client.get(conversationPath(Self.id)).status }
            #expect(statuses.filter { $0 == 200 }.count >= 2)
            #expect(statuses.contains(429))
            Thread.sleep(forTimeInterval: 0.35)
            statuses = [try client.get(conversationPath(Self.id)).status]
            #expect(statuses == [200])
        }
    }

    @Test("X-RateLimit headers: remaining = limit − count, reset as delta seconds", arguments: [false, true])
    func xRateLimit(epoch: Bool) throws {
        let configuration = MockServerConfiguration(
            rateLimit: .fixedWindow(limit: 4, window: .seconds(30)),
            headerFamily: epoch ? .xRateLimitEpoch : .xRateLimit)
        try withServer(configuration) { server in
            let client = try LoopbackClient(port: server.port)
            for count in 1...5 {
                let response = try client.get(conversationPath(Self.id))
                #expect(response[header: "X-RateLimit-Limit"] == "4")
                #expect(response[header: "X-RateLimit-Remaining"] == String(max(0, 4 - count)))
                let reset = try #require(Double(response[header: "X-RateLimit-Reset"] ?? ""))
                if epoch {
                    let now = Date().timeIntervalSince1970
                    #expect(reset == reset.rounded() && reset > now && reset <= now + 31)
                } else {
                    #expect(reset > 0 && reset <= 30)
                }
                #expect(response[header: "inin-ratelimit-count"] == nil)
                #expect(response.status == (count <= 4 ? 200 : 429))
            }
        }
    }

    @Test("IETF RateLimit and RateLimit-Policy headers")
    func ietf() throws {
        let configuration = MockServerConfiguration(
            rateLimit: .fixedWindow(limit: 3, window: .seconds(60)), headerFamily: .ietf)
        try withServer(configuration) { server in
            let client = try LoopbackClient(port: server.port)
            for count in 1...3 {
                let response = try client.get(conversationPath(Self.id))
                let value = try #require(response[header: "RateLimit"])
                #expect(value.hasPrefix("\"default\";r=\(3 - count);t="))
                let seconds = try #require(Int(value.split(separator: "=").last ?? ""))
                #expect((1...60).contains(seconds))
                #expect(response[header: "RateLimit-Policy"] == "\"default\";q=3;w=60")
            }
        }
    }

    @Test("header family none: no budget headers, but 429s still carry Retry-After")
    func noneFamily() throws {
        let configuration = MockServerConfiguration(
            rateLimit: .fixedWindow(limit: 1, window: .seconds(60)), headerFamily: .none)
        try withServer(configuration) { server in
            let client = try LoopbackClient(port: server.port)
            let ok = try client.get(conversationPath(Self.id))
            let limited = try client.get(conversationPath(Self.id))
            #expect(ok.status == 200 && limited.status == 429)
            for response in [ok, limited] {
                #expect(
                    Set(response.headers.keys).isSubset(of: [
                        "content-type", "content-length", "connection", "inin-correlation-id", "retry-after",
                    ]))
            }
            #expect(Int(limited[header: "Retry-After"] ?? "") ?? 0 >= 1)
        }
    }

    @Test(
        "token bucket: capacity admitted, then 429 with Retry-After 1 at 1 token/s; genesys reset = seconds until full")
    func tokenBucket() throws {
        let configuration = MockServerConfiguration(rateLimit: .tokenBucket(capacity: 3, refillPerSecond: 1))
        try withServer(configuration) { server in
            let client = try LoopbackClient(port: server.port)
            let statuses = try (0..<3).map { _ in try client.get(conversationPath(Self.id)) }
            #expect(statuses.map(\.status) == [200, 200, 200])
            #expect(statuses.map { $0[header: "inin-ratelimit-count"] } == ["1", "2", "3"])
            let limited = try client.get(conversationPath(Self.id))
            #expect(limited.status == 429)
            #expect(limited[header: "Retry-After"] == "1")
            #expect(limited[header: "inin-ratelimit-reset"] == "3")
        }
    }

    @Test("externalLoadPerWindow eats floor(x · limit) of each window")
    func externalLoad() throws {
        let configuration = MockServerConfiguration(
            rateLimit: .fixedWindow(limit: 10, window: .seconds(60)), externalLoadPerWindow: 0.5)
        try withServer(configuration) { server in
            let client = try LoopbackClient(port: server.port)
            let responses = try (0..<7).map { _ in try client.get(conversationPath(Self.id)) }
            #expect(responses.map(\.status) == [200, 200, 200, 200, 200, 429, 429])
            #expect(responses[0][header: "inin-ratelimit-count"] == "6")
        }
    }

    @Test("updateRateLimit mid-run: halve, raise, lift")
    func updateRateLimit() throws {
        let configuration = MockServerConfiguration(rateLimit: .fixedWindow(limit: 4, window: .seconds(60)))
        try withServer(configuration) { server in
            let client = try LoopbackClient(port: server.port)
            for _ in 0..<2 { #expect(try client.get(conversationPath(Self.id)).status == 200) }
            server.updateRateLimit(.fixedWindow(limit: 2, window: .seconds(60)))
            let halved = try client.get(conversationPath(Self.id))
            #expect(halved.status == 429)
            #expect(halved[header: "inin-ratelimit-allowed"] == "2")
            server.updateRateLimit(.fixedWindow(limit: 3, window: .seconds(60)))
            #expect(try client.get(conversationPath(Self.id)).status == 200)
            #expect(try client.get(conversationPath(Self.id)).status == 429)
            server.updateRateLimit(nil)
            let unlimited = try client.get(conversationPath(Self.id))
            #expect(unlimited.status == 200)
            #expect(unlimited[header: "inin-ratelimit-count"] == nil)
            server.updateRateLimit(.tokenBucket(capacity: 1, refillPerSecond: 0.1))
            #expect(try client.get(conversationPath(Self.id)).status == 200)
            let bucket = try client.get(conversationPath(Self.id))
            #expect(bucket.status == 429 && bucket[header: "Retry-After"] == "10")
        }
    }
}
