import Convoy
import ConvoyMock
import Foundation
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct RegionAndShardTests {
    @Test(arguments: [
        ("us-east-1", "https://api.mypurecloud.com", "https://login.mypurecloud.com"),
        ("EU-WEST-1", "https://api.mypurecloud.ie", "https://login.mypurecloud.ie"),
        ("mypurecloud.ie", "https://api.mypurecloud.ie", "https://login.mypurecloud.ie"),
        ("ap-southeast-2", "https://api.mypurecloud.com.au", "https://login.mypurecloud.com.au"),
        ("api.usw2.pure.cloud", "https://api.usw2.pure.cloud", "https://login.usw2.pure.cloud"),
        ("use2.us-gov-pure.cloud", "https://api.use2.us-gov-pure.cloud", "https://login.use2.us-gov-pure.cloud"),
    ])
    func regionsByNameOrHost(name: String, api: String, login: String) throws {
        let region = try #require(GenesysRegion(name))
        #expect(region.apiBase.absoluteString == api)
        #expect(region.loginBase.absoluteString == login)
    }

    @Test func unknownRegionsAreRejectedAndTheListNamesThemAll() {
        #expect(GenesysRegion("mars-north-1") == nil)
        #expect(GenesysRegion.all.count == 17)
        #expect(GenesysRegion.validNames.contains("eu-central-1 (mypurecloud.de)"))
    }

    @Test func shardsAreDisjointCoverEverythingAndAreStable() throws {
        let ids = MockConversationStore.sampleIDs(count: 3000).map { ConversationID($0)! }
        for count in [1, 2, 3, 7] {
            let shards = (1...count).map { Shard(index: $0, count: count) }
            var seen = Set<ConversationID>()
            for shard in shards {
                let part = ids.filter(shard.contains)
                #expect(seen.isDisjoint(with: part))
                seen.formUnion(part)
                if count > 1 { #expect(abs(part.count - ids.count / count) < ids.count / count / 5, "balanced") }
            }
            #expect(seen.count == ids.count)
        }
        // Pinned (FNV-1a 64 of the text, computed independently): the same id lands in the same
        // shard on every machine and in every version.
        let pinned = ConversationID("00000000-0000-4000-8000-000000000000")!
        #expect(Shard(index: 2, count: 4).contains(pinned))
        #expect(Shard(index: 4, count: 7).contains(pinned))
        #expect(Shard("2/4") == Shard(index: 2, count: 4))
        for bad in ["0/4", "5/4", "1/0", "x/2", "1", "1/2/3"] { #expect(Shard(bad) == nil) }
    }

    @Test func credentialsFromEnvironmentAndFiles() throws {
        #expect(try ClientCredentials.fromEnvironment([:]) == nil)
        #expect(throws: ConvoyError.self) {
            try ClientCredentials.fromEnvironment(["GENESYSCLOUD_OAUTHCLIENT_ID": "a"])
        }
        let env = try ClientCredentials.fromEnvironment([
            "GENESYSCLOUD_OAUTHCLIENT_ID": "id", "GENESYSCLOUD_OAUTHCLIENT_SECRET": "s3cret",
        ])
        #expect(env == ClientCredentials(clientID: "id", clientSecret: "s3cret"))
        let shown = ["\(env!)", String(reflecting: env!), "\([env!])"]
        #expect(
            shown.allSatisfy { !$0.contains("s3cret") && $0.contains("id") }, "the secret is never printed: \(shown)")
        #expect(!"\(env!)".contains("s3cret") && !String(reflecting: env!).contains("s3cret"))

        let folder = try TemporaryDirectory()
        try #"{"clientId":"j","clientSecret":"k"}"#.write(
            toFile: folder.file("c.json"), atomically: true, encoding: .utf8)
        #expect(
            try ClientCredentials.fromFile(folder.file("c.json")) == ClientCredentials(clientID: "j", clientSecret: "k")
        )
        try "# creds\nexport GENESYSCLOUD_OAUTHCLIENT_ID=\"e\"\nGENESYSCLOUD_OAUTHCLIENT_SECRET='f'\n".write(
            toFile: folder.file("c.env"), atomically: true, encoding: .utf8)
        #expect(
            try ClientCredentials.fromFile(folder.file("c.env")) == ClientCredentials(clientID: "e", clientSecret: "f"))
        try "nothing here".write(toFile: folder.file("bad"), atomically: true, encoding: .utf8)
        #expect(throws: ConvoyError.self) { try ClientCredentials.fromFile(folder.file("bad")) }
    }

    @Test func exportScannerFindsEveryConversationIDInFilesAndFolders() async throws {
        let folder = try TemporaryDirectory()
        let ids = MockConversationStore.sampleIDs(count: 6)
        try FileManager.default.createDirectory(atPath: folder.file("day1"), withIntermediateDirectories: true)
        // A JSON document with ids at several depths, an NDJSON file, and a file that is not JSON.
        try
            #"{"recordings":[{"conversationId":"\#(ids[0])","media":"audio"},{"meta":{"conversationId":"\#(ids[1])"}}]}"#
            .write(toFile: folder.file("day1/a.json"), atomically: true, encoding: .utf8)
        try
            (#"{"conversationId":"\#(ids[2])"}"# + "\n"
            + #"{"conversationId":"\#(ids[3])","x":[{"conversationId":"\#(ids[4])"}]}"#
            + "\n" + #"{"conversationId":"not-a-uuid"}"# + "\n")
            .write(toFile: folder.file("b.ndjson"), atomically: true, encoding: .utf8)
        try "ignore me \(ids[5])".write(toFile: folder.file("notes.txt"), atomically: true, encoding: .utf8)

        var found: [String] = []
        var invalid: [String] = []
        for try await (_, item) in ExportScanner(path: folder.path) {
            switch item {
            case .id(let id): found.append(id.description)
            case .invalid(let text, _): invalid.append(text)
            case .skip: break
            }
        }
        #expect(Set(found) == Set(ids.prefix(5)))
        #expect(invalid == ["not-a-uuid"])
        #expect(throws: ConvoyError.self) { try ExportScanner(path: folder.file("missing")).files() }
    }
}

/// A login server in memory: answers from a script, counts requests and concurrency.
final class FakeLoginServer: HTTPTransport {
    struct State {
        var requests = 0
        var inFlight = 0
        var maxInFlight = 0
        var issued = 0
        var authorizations: [String] = []
    }
    let state = Mutex(State())
    let script: @Sendable (Int) -> HTTPResponse
    let delay: Duration

    init(delay: Duration = .zero, script: @escaping @Sendable (Int) -> HTTPResponse) {
        self.delay = delay
        self.script = script
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let number = state.withLock { state in
            state.requests += 1
            state.inFlight += 1
            state.maxInFlight = max(state.maxInFlight, state.inFlight)
            state.authorizations.append(request.headers["Authorization"] ?? "")
            return state.requests
        }
        if delay > .zero { try await Task.sleep(for: delay) }
        state.withLock { $0.inFlight -= 1 }
        return script(number)
    }

    static func token(_ value: String, expiresIn: Int) -> HTTPResponse {
        HTTPResponse(
            status: 200,
            body: Data(#"{"access_token":"\#(value)","token_type":"bearer","expires_in":\#(expiresIn)}"#.utf8))
    }
}

/// A login server whose answers take `latency` of a manual clock: the clock moves on while the
/// token request is in flight.
final class SlowLoginServer: HTTPTransport {
    let clock: ManualClock
    let latency: Duration
    let server: FakeLoginServer

    init(clock: ManualClock, latency: Duration, script: @escaping @Sendable (Int) -> HTTPResponse) {
        self.clock = clock
        self.latency = latency
        self.server = FakeLoginServer(script: script)
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        clock.advance(by: latency)
        return try await server.send(request)
    }
}

@Suite(.timeLimit(.minutes(1))) struct OAuthClientCredentialsTests {
    static let credentials = ClientCredentials(clientID: "client", clientSecret: "hunter2")
    static let login = URL(string: "http://127.0.0.1:1")!

    @Test func sendsBasicAuthAndOneTokenRequestForManyConcurrentCallers() async throws {
        let server = FakeLoginServer(delay: .milliseconds(50)) { n in FakeLoginServer.token("t\(n)", expiresIn: 3600) }
        let oauth = OAuthClientCredentials(
            credentials: Self.credentials, loginBase: Self.login, transport: server, clock: ContinuousClock())
        let tokens = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<50 { group.addTask { try await oauth.accessToken() } }
            return try await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(Set(tokens) == ["t1"])
        #expect(server.state.withLock { $0.requests } == 1, "single flight")
        #expect(
            server.state.withLock { $0.authorizations } == [
                "Basic " + Data("client:hunter2".utf8).base64EncodedString()
            ])
    }

    @Test func renewsBeforeExpiry() async throws {
        let clock = ManualClock()
        let server = FakeLoginServer { n in FakeLoginServer.token("t\(n)", expiresIn: 100) }
        let oauth = OAuthClientCredentials(
            credentials: Self.credentials, loginBase: Self.login, transport: server, clock: clock)
        #expect(try await oauth.accessToken() == "t1")
        clock.advance(by: .seconds(89))
        #expect(try await oauth.accessToken() == "t1", "still fresh")
        clock.advance(by: .seconds(2))  // 91 s: inside the 10 s margin of a 100 s token
        #expect(try await oauth.accessToken() == "t2", "renewed before it expired")
        #expect(oauth.tokenRequests == 2)
    }

    @Test func aTokensLifeCountsFromItsRequestNotItsAnswer() async throws {
        // Requested at 0 s, answered at 5 s with expires_in 60: it expires at 60 s, so with the 6 s
        // margin it is renewed from 54 s on (counted from the answer it would last until 59 s).
        let clock = ManualClock()
        let server = SlowLoginServer(clock: clock, latency: .seconds(5)) { n in
            FakeLoginServer.token("t\(n)", expiresIn: 60)
        }
        let oauth = OAuthClientCredentials(
            credentials: Self.credentials, loginBase: Self.login, transport: server, clock: clock)
        #expect(try await oauth.accessToken() == "t1")
        #expect(clock.now == ManualClock.Instant(offset: .seconds(5)), "the answer took 5 s")
        clock.advance(to: ManualClock.Instant(offset: .milliseconds(53_999)))
        #expect(oauth.isFresh("t1"))
        #expect(try await oauth.accessToken() == "t1", "still fresh just before 54 s")
        clock.advance(to: ManualClock.Instant(offset: .seconds(54)))
        #expect(!oauth.isFresh("t1"), "due for renewal 6 s before 60 s")
        #expect(try await oauth.accessToken() == "t2")
        #expect(oauth.tokenRequests == 2)
    }

    @Test func aTokenThatWentStaleWhileWaitingForAPermitIsNeverSent() async throws {
        // A 10 s token is fresh for 9 s; the budget is paused for 30 s. The request waiting out the
        // pause must go with a new token, not the one it held when it started waiting.
        let clock = ManualClock()
        let login = FakeLoginServer { n in FakeLoginServer.token("t\(n)", expiresIn: 10) }
        let oauth = OAuthClientCredentials(
            credentials: Self.credentials, loginBase: Self.login, transport: login, clock: clock)
        let limiter = RateLimiter(configuration: .init(initialRate: 100), clock: clock)
        let first = try await limiter.acquire()
        limiter.complete(first, status: 429, observation: RateLimitObservation(retryAfter: .seconds(30)))
        let api = FakeTransport(requests: { request, id, _ in
            HTTPResponse(
                status: 200, headers: ["X-Token": request.headers["Authorization"] ?? ""], body: Data("{}".utf8))
        })
        let sender = BudgetedSender(limiter: limiter, transport: api, credentials: oauth)
        let (response, token) = try await clock.advancingWhileAsleep {
            try await sender.send(HTTPRequest(url: URL(string: "http://127.0.0.1:1/api/v2/conversations/x")!))
        }
        #expect(clock.now >= ManualClock.Instant(offset: .seconds(30)), "it waited out the pause")
        #expect(token == "t2" && response.headers["X-Token"] == "Bearer t2")
        #expect(api.requests.count == 1, "t1 never reached the API")
        #expect(oauth.tokenRequests == 2)
    }

    @Test func honoursRetryAfterFromTheLoginServer() async throws {
        let clock = ManualClock()
        let server = FakeLoginServer { n in
            n == 1
                ? HTTPResponse(status: 429, headers: ["Retry-After": "7"], body: Data())
                : FakeLoginServer.token("t\(n)", expiresIn: 3600)
        }
        let oauth = OAuthClientCredentials(
            credentials: Self.credentials, loginBase: Self.login, transport: server, clock: clock)
        let pending = Task { try await oauth.accessToken() }
        try await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == ManualClock.Instant(offset: .seconds(7)))
        clock.advance(by: .seconds(7))
        #expect(try await pending.value == "t2")
        #expect(oauth.tokenRequests == 2)
    }

    @Test func wrongCredentialsFailAtOnceNamingTheVariablesButNotTheSecret() async throws {
        let server = FakeLoginServer { _ in
            HTTPResponse(
                status: 401, body: Data(#"{"error":"invalid_client","description":"authentication failed"}"#.utf8))
        }
        let oauth = OAuthClientCredentials(
            credentials: Self.credentials, loginBase: Self.login, transport: server, clock: ContinuousClock())
        do {
            _ = try await oauth.accessToken()
            Issue.record("expected an error")
        } catch let error as ConvoyError {
            #expect(error.message.contains("GENESYSCLOUD_OAUTHCLIENT_ID"))
            #expect(error.message.contains("GENESYSCLOUD_OAUTHCLIENT_SECRET"))
            #expect(error.message.contains("invalid_client"))
            #expect(!error.message.contains("hunter2"))
        }
        #expect(server.state.withLock { $0.requests } == 1, "no retry of wrong credentials")
    }

    @Test func aRejectedTokenIsReplacedOnceThenTheRunStops() async throws {
        let server = FakeLoginServer { n in FakeLoginServer.token("t\(n)", expiresIn: 3600) }
        let oauth = OAuthClientCredentials(
            credentials: Self.credentials, loginBase: Self.login, transport: server, clock: ContinuousClock())
        let first = try await oauth.accessToken()
        #expect(await oauth.rejected(first) == true)
        #expect(await oauth.rejected(first) == true, "a second request with the old token just retries")
        let second = try await oauth.accessToken()
        #expect(second == "t2")
        #expect(await oauth.rejected(second) == false, "a brand-new token refused too: stop")
    }
}
