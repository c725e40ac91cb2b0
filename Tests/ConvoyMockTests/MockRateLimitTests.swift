import ConvoyMock
import Foundation
import Testing

@Suite("MockAPIServer: rate limiting over HTTP", .timeLimit(.minutes(1)))
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

    @Test("a window's budget is back exactly at its boundary, not a nanosecond before")
    func windowResets() throws {
        var server = ResponderHarness(
            MockServerConfiguration(rateLimit: .fixedWindow(limit: 2, window: .milliseconds(300))))
        let answers = try (0..<6).map { _ in try server.get(conversationPath(Self.id), at: .milliseconds(100)) }
        #expect(answers.map(\.status) == [200, 200, 429, 429, 429, 429])
        #expect(answers.map { $0[header: "inin-ratelimit-count"] } == ["1", "2", "2", "2", "2", "2"])
        #expect(answers[2...].allSatisfy { $0[header: "Retry-After"] == "1" }, "200 ms left, rounded up")
        let last = try server.get(conversationPath(Self.id), at: .milliseconds(300) - .nanoseconds(1))
        #expect(last.status == 429 && last[header: "Retry-After"] == "1")
        let next = try server.get(conversationPath(Self.id), at: .milliseconds(300))
        #expect(next.status == 200)
        #expect(next[header: "inin-ratelimit-count"] == "1" && next[header: "inin-ratelimit-reset"] == "1")
        #expect(server.counters().requests == 8)
    }

    @Test("X-RateLimit headers: remaining = limit − count, reset as delta seconds or the epoch second of the reset")
    func xRateLimit() throws {
        let limit = MockRateLimit.fixedWindow(limit: 4, window: .seconds(30))
        var delta = ResponderHarness(MockServerConfiguration(rateLimit: limit, headerFamily: .xRateLimit))
        var epoch = ResponderHarness(MockServerConfiguration(rateLimit: limit, headerFamily: .xRateLimitEpoch))
        let instant = Duration.milliseconds(12_500)
        for count in 1...5 {
            let response = try delta.get(conversationPath(Self.id), at: instant)
            #expect(response.status == (count <= 4 ? 200 : 429))
            #expect(response[header: "X-RateLimit-Limit"] == "4")
            #expect(response[header: "X-RateLimit-Remaining"] == String(max(0, 4 - count)))
            #expect(response[header: "X-RateLimit-Reset"] == "17.5", "30 s window, 12.5 s in")
            #expect(response[header: "inin-ratelimit-count"] == nil)

            // The epoch form adds the wall clock read during the request: bracket it instead of allowing a margin.
            let before = Date().timeIntervalSince1970
            let stamped = try epoch.get(conversationPath(Self.id), at: instant)
            let after = Date().timeIntervalSince1970
            let reset = try #require(Double(stamped[header: "X-RateLimit-Reset"] ?? ""))
            #expect(reset == reset.rounded(), "whole seconds")
            #expect((before + 17.5).rounded(.up) <= reset && reset <= (after + 17.5).rounded(.up))
            #expect(stamped[header: "X-RateLimit-Remaining"] == String(max(0, 4 - count)))
        }
        // At the boundary the delta is a whole new window.
        #expect(try delta.get(conversationPath(Self.id), at: .seconds(30))[header: "X-RateLimit-Reset"] == "30")
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
                        "content-type", "content-length", "connection", "date", "inin-correlation-id", "retry-after",
                    ]))
            }
            #expect(Int(limited[header: "Retry-After"] ?? "") ?? 0 >= 1)
        }
    }

    @Test("token bucket: capacity admitted, then 429 with Retry-After until one token; genesys reset = until full")
    func tokenBucket() throws {
        var server = ResponderHarness(
            MockServerConfiguration(rateLimit: .tokenBucket(capacity: 3, refillPerSecond: 1)))
        let full = try (0..<3).map { _ in try server.get(conversationPath(Self.id), at: .seconds(5)) }
        #expect(full.map(\.status) == [200, 200, 200])
        #expect(full.map { $0[header: "inin-ratelimit-count"] } == ["1", "2", "3"])
        let limited = try server.get(conversationPath(Self.id), at: .seconds(5))
        #expect(limited.status == 429)
        #expect(limited[header: "Retry-After"] == "1")
        #expect(limited[header: "inin-ratelimit-reset"] == "3")
        // 0.999 999 tokens are not one; a whole second later there is exactly one.
        let early = try server.get(conversationPath(Self.id), at: .seconds(6) - .microseconds(1))
        #expect(early.status == 429 && early[header: "Retry-After"] == "1")
        let refilled = try server.get(conversationPath(Self.id), at: .seconds(6))
        #expect(refilled.status == 200 && refilled[header: "inin-ratelimit-count"] == "3")
        #expect(try server.get(conversationPath(Self.id), at: .seconds(6)).status == 429)
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

    @Test("updateRateLimit mid-run over HTTP: halve, raise, lift")
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
        }
    }

    @Test("updateRateLimit to a token bucket starts it full; Retry-After is the time to one token")
    func updateToTokenBucket() throws {
        var server = ResponderHarness(
            MockServerConfiguration(rateLimit: .fixedWindow(limit: 4, window: .seconds(60))))
        #expect(try server.get(conversationPath(Self.id), at: .seconds(1)).status == 200)
        server.updateRateLimit(.tokenBucket(capacity: 1, refillPerSecond: 0.1), at: .seconds(2))
        #expect(try server.get(conversationPath(Self.id), at: .seconds(2)).status == 200)
        let bucket = try server.get(conversationPath(Self.id), at: .seconds(2))
        #expect(bucket.status == 429 && bucket[header: "Retry-After"] == "10")
        let later = try server.get(conversationPath(Self.id), at: .milliseconds(10_500))
        #expect(later.status == 429 && later[header: "Retry-After"] == "2", "0.85 tokens: 1.5 s to go")
        #expect(try server.get(conversationPath(Self.id), at: .seconds(12)).status == 200)
    }
}
