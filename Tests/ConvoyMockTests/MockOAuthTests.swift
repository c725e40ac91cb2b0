import ConvoyMock
import Foundation
import Testing

@Suite("MockAPIServer: OAuth client credentials", .timeLimit(.minutes(1)))
struct MockOAuthTests {
    private static let id = MockConversationStore.sampleIDs(count: 1, seed: 21)[0]
    private static let oauth = MockOAuth(clientId: "convoy-client", clientSecret: "s3cr3t:with:colons")

    @Test("token endpoint: 200 with an opaque bearer token; the API needs it; counters")
    func issueAndUse() throws {
        try withServer(MockServerConfiguration(oauth: Self.oauth)) { server in
            let client = try LoopbackClient(port: server.port)
            let response = try client.post(
                "/oauth/token", headers: tokenRequestHeaders("convoy-client", "s3cr3t:with:colons"),
                body: "grant_type=client_credentials")
            #expect(response.status == 200)
            #expect(response[header: "Content-Type"] == "application/json")
            #expect(response[header: "inin-ratelimit-count"] == nil)
            let body = try response.jsonObject()
            #expect(Set(body.keys) == ["access_token", "token_type", "expires_in"])
            #expect(body["token_type"] as? String == "bearer")
            #expect(body["expires_in"] as? Int == 86_400)
            let token = try #require(body["access_token"] as? String)
            #expect(token.count >= 32)
            #expect(try fetchToken(client, id: "convoy-client", secret: "s3cr3t:with:colons") != token)

            let missing = try client.get(conversationPath(Self.id))
            #expect(missing.status == 401)
            let error = try missing.jsonObject()
            #expect(error["code"] as? String == "authentication.required")
            #expect(error["status"] as? Int == 401)
            #expect(error["contextId"] as? String == missing[header: "ININ-Correlation-Id"])
            #expect(try client.get(conversationPath(Self.id), headers: bearer("forged")).status == 401)
            #expect(try client.get(conversationPath(Self.id), headers: ["Authorization": "Basic abc"]).status == 401)
            // Every /api/v2/ path needs the token, known or not.
            #expect(try client.get("/api/v2/users/me").status == 401)

            let ok = try client.get(conversationPath(Self.id), headers: bearer(token))
            #expect(ok.status == 200)
            #expect(Data(ok.body) == MockConversationStore.conversationDocument(id: Self.id))
            #expect(
                try client.get(conversationPath(Self.id), headers: ["authorization": "bearer \(token)"]).status == 200)
            #expect(try client.get("/api/v2/users/me", headers: bearer(token)).status == 404)

            let counters = server.counters()
            #expect(counters.tokenRequests == 2)
            #expect(counters.tokensIssued == 2)
            #expect(counters.unauthorized == 4)
            #expect(counters.requestsByPath["token"] == 2)
            #expect(counters.requestsByPath["conversation"] == 5)
            #expect(counters.responsesByStatus[401] == 4)
            #expect(counters.hitsByID[Self.id] == 5)
        }
    }

    @Test("bad credentials → 401 invalid_client; wrong grant → 400; wrong content type → 400; GET → 405")
    func rejections() throws {
        try withServer(MockServerConfiguration(oauth: Self.oauth)) { server in
            let client = try LoopbackClient(port: server.port)
            let grant = "grant_type=client_credentials"
            for headers in [
                tokenRequestHeaders("convoy-client", "wrong"),
                tokenRequestHeaders("someone-else", "s3cr3t:with:colons"),
                ["Content-Type": "application/x-www-form-urlencoded"],
                ["Authorization": "Basic !!!not-base64", "Content-Type": "application/x-www-form-urlencoded"],
                ["Authorization": "Bearer x", "Content-Type": "application/x-www-form-urlencoded"],
            ] {
                let response = try client.post("/oauth/token", headers: headers, body: grant)
                #expect(response.status == 401)
                #expect(response.bodyText == #"{"error":"invalid_client","description":"authentication failed"}"#)
            }
            let good = tokenRequestHeaders("convoy-client", "s3cr3t:with:colons")
            for body in ["grant_type=password", "", "scope=all"] {
                let response = try client.post("/oauth/token", headers: good, body: body)
                #expect(response.status == 400)
                #expect(response.bodyText == #"{"error":"unsupported_grant_type"}"#)
            }
            var json = good
            json["Content-Type"] = "application/json"
            let wrongType = try client.post("/oauth/token", headers: json, body: grant)
            #expect(wrongType.status == 400)
            #expect(try wrongType.jsonObject()["error"] as? String == "invalid_request")
            // Parameters in any order, with a charset on the content type.
            var charset = good
            charset["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
            #expect(
                try client.post("/oauth/token", headers: charset, body: "foo=1&grant_type=client_credentials").status
                    == 200)
            #expect(try client.get("/oauth/token").status == 405)

            let counters = server.counters()
            #expect(counters.tokenRequests == 11)
            #expect(counters.tokensIssued == 1)
            #expect(counters.unauthorized == 0)
        }
    }

    @Test("a token is valid for exactly its lifetime; a fresh token works; expireAllTokens invalidates at once")
    func expiry() throws {
        let oauth = MockOAuth(clientId: "c", clientSecret: "s", tokenLifetime: .milliseconds(600))
        var server = ResponderHarness(MockServerConfiguration(oauth: oauth))
        let issued = try server.post(
            "/oauth/token", headers: tokenRequestHeaders("c", "s"), body: "grant_type=client_credentials",
            at: .seconds(10))
        #expect(issued.status == 200)
        #expect(try issued.response.jsonObject()["expires_in"] as? Double == 0.6, "exactly the lifetime")
        let token = try #require(try issued.response.jsonObject()["access_token"] as? String)
        let expiry = Duration.seconds(10) + .milliseconds(600)
        let lastValid = try server.get(conversationPath(Self.id), headers: bearer(token), at: expiry - .nanoseconds(1))
        #expect(lastValid.status == 200)
        let expired = try server.get(conversationPath(Self.id), headers: bearer(token), at: expiry)
        #expect(expired.status == 401)
        #expect(try expired.response.jsonObject()["code"] as? String == "authentication.required")
        #expect(try expired.response.jsonObject()["message"] as? String == "Invalid login credentials.")

        let fresh = try server.post(
            "/oauth/token", headers: tokenRequestHeaders("c", "s"), body: "grant_type=client_credentials", at: expiry)
        let freshToken = try #require(try fresh.response.jsonObject()["access_token"] as? String)
        #expect(try server.get(conversationPath(Self.id), headers: bearer(freshToken), at: expiry).status == 200)
        server.expireAllTokens()
        #expect(try server.get(conversationPath(Self.id), headers: bearer(freshToken), at: expiry).status == 401)
        let counters = server.counters()
        #expect(counters.unauthorized == 2 && counters.tokensIssued == 2 && counters.tokenRequests == 2)
    }

    @Test("expireAllTokens over HTTP: the next request with a token issued before gets 401")
    func expireAllTokensOverHTTP() throws {
        try withServer(MockServerConfiguration(oauth: Self.oauth)) { server in
            let client = try LoopbackClient(port: server.port)
            let token = try fetchToken(client, id: "convoy-client", secret: "s3cr3t:with:colons")
            #expect(try client.get(conversationPath(Self.id), headers: bearer(token)).status == 200)
            server.expireAllTokens()
            #expect(try client.get(conversationPath(Self.id), headers: bearer(token)).status == 401)
            #expect(server.counters().unauthorized == 1)
        }
    }

    @Test("429 wins over 401 on the API; the token endpoint has its own limit with Retry-After")
    func rateLimits() throws {
        let oauth = MockOAuth(
            clientId: "c", clientSecret: "s", tokenRateLimit: .fixedWindow(limit: 2, window: .seconds(60)))
        let configuration = MockServerConfiguration(
            rateLimit: .fixedWindow(limit: 1, window: .seconds(60)), oauth: oauth)
        try withServer(configuration) { server in
            let client = try LoopbackClient(port: server.port)
            // The API's budget: the first request is admitted (then 401), the second is over the limit.
            let first = try client.get(conversationPath(Self.id))
            #expect(first.status == 401)
            #expect(first[header: "inin-ratelimit-count"] == "1")
            let second = try client.get(conversationPath(Self.id))
            #expect(second.status == 429)
            #expect(try second.jsonObject()["code"] as? String == "too.many.requests.retry.after")

            // The token endpoint's budget is separate: two tokens, then 429.
            _ = try fetchToken(client, id: "c", secret: "s")
            _ = try fetchToken(client, id: "c", secret: "s")
            let limited = try client.post(
                "/oauth/token", headers: tokenRequestHeaders("c", "s"), body: "grant_type=client_credentials")
            #expect(limited.status == 429)
            let retryAfter = try #require(Int(limited[header: "Retry-After"] ?? ""))
            #expect((1...60).contains(retryAfter))
            #expect(limited[header: "inin-ratelimit-count"] == nil)
            #expect(try limited.jsonObject()["code"] as? String == "too.many.requests.retry.after")

            let counters = server.counters()
            #expect(counters.tokenRequests == 3)
            #expect(counters.tokensIssued == 2)
            #expect(counters.tooManyRequests == 2)
            #expect(counters.unauthorized == 1)
        }
    }

    @Test("without OAuth nothing needs a token and /oauth/token does not exist")
    func disabled() throws {
        try withServer { server in
            let client = try LoopbackClient(port: server.port)
            #expect(try client.get(conversationPath(Self.id)).status == 200)
            let token = try client.post(
                "/oauth/token", headers: tokenRequestHeaders("c", "s"), body: "grant_type=client_credentials")
            #expect(token.status == 404)
            let counters = server.counters()
            #expect(counters.tokenRequests == 0 && counters.requestsByPath["token"] == nil)
            #expect(counters.unauthorized == 0)
        }
    }
}
