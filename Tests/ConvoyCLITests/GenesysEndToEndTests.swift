import Convoy
import ConvoyCLI
import ConvoyMock
import Foundation
import Testing

/// Issue 3 end to end: OAuth, --include, --interval, --from-export and --shard against the mock.
@Suite(.serialized, .timeLimit(.minutes(2))) struct GenesysEndToEndTests {
    static let secret = "s3cr3t-\(UUID())"
    static let oauthEnvironment = [
        "GENESYSCLOUD_OAUTHCLIENT_ID": "convoy-test", "GENESYSCLOUD_OAUTHCLIENT_SECRET": secret,
    ]

    @Test func tokensAreRenewedBeforeTheyExpireAndSecretsStayHidden() async throws {
        let scratch = try TemporaryDirectory()
        // 1 s tokens (announced exactly) over a run of about 2.5 s, the token endpoint limited too.
        let server = try MockAPIServer.start(
            MockServerConfiguration(
                rateLimit: .fixedWindow(limit: 100, window: .milliseconds(500)),
                oauth: MockOAuth(
                    clientId: "convoy-test", clientSecret: Self.secret, tokenLifetime: .seconds(1),
                    tokenRateLimit: .fixedWindow(limit: 1, window: .seconds(1)))))
        defer { server.shutdown() }
        let ids = MockConversationStore.sampleIDs(count: 500, seed: 21)
        let input = try writeIDs(ids, in: scratch)
        let (status, console) = await convoy(
            [
                "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("o.ndjson"),
                "--no-progress",
            ], environment: Self.oauthEnvironment)
        #expect(status == 0, "\(console.capturedError)")
        #expect(Set(try ConvoyCLITests.ids(scratch.file("o.ndjson"))) == Set(ids), "0 lost across expiries")
        let counters = server.counters()
        #expect(counters.tokensIssued >= 3, "tokens were renewed during the run: \(counters.tokensIssued)")
        #expect(counters.unauthorized == 0, "every token was replaced before it expired, not after a 401")
        #expect(counters.tokenRequests <= counters.tokensIssued * 3, "token 429s waited, not hammered")
        let manifest = try #require(try ManifestLog(path: scratch.file("o.manifest.ndjson")).last()?.manifest)
        #expect(manifest.oauthClientId == "convoy-test", "the manifest names the client that fetched")
        for path in ["o.ndjson", "o.errors.ndjson", "o.manifest.ndjson"] {
            #expect(!(try String(contentsOfFile: scratch.file(path), encoding: .utf8)).contains(Self.secret))
        }
        for text in [console.capturedError, console.capturedOutput] {
            #expect(!text.contains(Self.secret))
        }
        #expect(console.capturedError.contains("token requests"))
    }

    @Test func aWrongSecretFailsAtOnceNamingTheVariables() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(
            MockServerConfiguration(oauth: MockOAuth(clientId: "convoy-test", clientSecret: "the-right-one")))
        defer { server.shutdown() }
        let input = try writeIDs(MockConversationStore.sampleIDs(count: 5), in: scratch)
        let (status, console) = await convoy(
            ["fetch", input, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("o.ndjson")],
            environment: Self.oauthEnvironment)
        #expect(status == 1)
        #expect(console.capturedError.contains("GENESYSCLOUD_OAUTHCLIENT_ID"))
        #expect(console.capturedError.contains("GENESYSCLOUD_OAUTHCLIENT_SECRET"))
        #expect(!console.capturedError.contains(Self.secret))
        #expect(server.counters().requests == server.counters().tokenRequests, "no API request was made")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("o.ndjson")), "no file touched")
    }

    @Test func everyIncludedPartLandsInTheRecord() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration(missingPerMille: 0))
        defer { server.shutdown() }
        let ids = MockConversationStore.sampleIDs(count: 40, seed: 5)
        let input = try writeIDs(ids, in: scratch)
        let (status, console) = await convoy(
            [
                "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("o.ndjson"),
                "--include", "conversation,analytics,recordingmetadata,messages", "--no-progress",
            ])
        #expect(status == 0, "\(console.capturedError)")
        let text = try String(contentsOfFile: scratch.file("o.ndjson"), encoding: .utf8)
        let lines = text.split(separator: "\n")
        let landed = try ConvoyCLITests.ids(scratch.file("o.ndjson"))
        #expect(landed.sorted() == ids.sorted(), "every id once, none missing, none extra")
        for line in lines {
            let record = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let id = record["id"] as! String
            func verbatim(_ key: String, _ data: Data) {
                #expect(line.contains(#""\#(key)":\#(String(decoding: data, as: UTF8.self))"#), "\(key) of \(id)")
            }
            verbatim("conversation", MockConversationStore.conversationDocument(id: id))
            // Provenance: the status of every part, and the id of the very answer the conversation came in.
            let provenance = try #require(record["provenance"] as? [String: Any])
            #expect(
                Set(provenance.keys)
                    == ["conversation", "analytics", "recordingmetadata", "messages", "messageBodies"])
            let conversation = try #require(provenance["conversation"] as? [String: Any])
            #expect(conversation["status"] as? Int == 200)
            let answered = server.counters().correlationIDsByID[id] ?? []
            #expect(answered.count == 1)
            #expect(conversation["correlationId"] as? String == answered.first, "the answer's ININ-Correlation-Id")
            for part in ["analytics", "recordingmetadata", "messages"] {
                let source = try #require(provenance[part] as? [String: Any])
                #expect(source["correlationId"] is String && [200, 404].contains(source["status"] as? Int))
            }
            let batches = try #require(provenance["messageBodies"] as? [[String: Any]])
            #expect(batches.count == ((record["messageBodies"] as? [Any])?.count ?? 0))
            verbatim("analytics", MockConversationStore.analyticsDocument(id: id))
            verbatim("recordingmetadata", MockConversationStore.recordingMetadataDocument(id: id))
            if let messaging = MockConversationStore.messagingDocument(id: id) {
                verbatim("messages", messaging)
                let bodies = record["messageBodies"] as! [[String: Any]]
                let entities = bodies.flatMap { $0["entities"] as! [[String: Any]] }.map { $0["id"] as! String }
                #expect(Set(entities) == Set(MockConversationStore.messageIDs(conversationID: id)))
            } else {
                #expect(record["messages"] is NSNull && record["messageBodies"] is NSNull)
            }
        }
    }

    @Test func aClientWithoutTheAnalyticsPermissionStopsEarlyNamingIt() async throws {
        let scratch = try TemporaryDirectory()
        var configuration = MockServerConfiguration()
        configuration.forbiddenRoutes = ["analytics", "analyticsBatch"]
        let server = try MockAPIServer.start(configuration)
        defer { server.shutdown() }
        let input = try writeIDs(MockConversationStore.sampleIDs(count: 2000, seed: 5), in: scratch)
        let (status, console) = await convoy([
            "fetch", input, "--include", "conversation,analytics", "--api-base", server.baseURL.absoluteString,
            "--output", scratch.file("o.ndjson"), "--no-progress",
        ])
        #expect(status == 1)
        #expect(console.capturedError.contains("analytics:conversationDetail:view"), "\(console.capturedError)")
        let counters = server.counters()
        let refused = counters.requestsByPath["analytics", default: 0]
        #expect(counters.requestsByPath["analyticsBatch"] == 1 && refused >= 25 && refused <= 25 + 16)
        #expect(counters.requestsByPath["conversation", default: 0] < 200, "stopped within the first ids")
        #expect(lineCount(scratch.file("o.errors.ndjson")) == 0, "no error per id: the re-run fetches them all")
    }

    @Test func intervalDiscoveryLandsExactlyTheIntervalsConversationsAndResumes() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(
            MockServerConfiguration(missingPerMille: 20, jobDelay: .milliseconds(300), universeSize: 3000))
        defer { server.shutdown() }
        let formatter = ISO8601DateFormatter()
        let start = formatter.date(from: "2026-03-01T00:00:00Z")!
        let end = formatter.date(from: "2026-04-01T00:00:00Z")!
        let expected = MockConversationStore.conversations(
            inInterval: start..<end, universeSize: 3000, missingPerMille: 20)
        #expect(expected.count > 100)
        let arguments = [
            "fetch", "--interval", "2026-03-01T00:00:00Z/2026-04-01T00:00:00Z", "--api-base",
            server.baseURL.absoluteString, "--output", scratch.file("o.ndjson"), "--no-progress",
        ]
        let (status, console) = await convoy(arguments)
        #expect(status == 0, "\(console.capturedError)")
        let fetched = try ConvoyCLITests.ids(scratch.file("o.ndjson"))
        #expect(fetched.count == Set(fetched).count)
        #expect(Set(fetched) == Set(expected))
        let requests = server.counters().requests
        let (again, _) = await convoy(arguments)
        #expect(again == 0)
        #expect(server.counters().requests == requests, "a finished discovery and fetch do nothing twice")

        let filtered = MockConversationStore.conversations(
            inInterval: start..<end, universeSize: 3000, missingPerMille: 20, mediaType: "message")
        let (voiceless, _) = await convoy(
            [
                "fetch", "--interval", "2026-03-01T00:00:00Z/2026-04-01T00:00:00Z", "--media-type", "message",
                "--api-base", server.baseURL.absoluteString, "--output", scratch.file("m.ndjson"), "--no-progress",
            ])
        #expect(voiceless == 0)
        #expect(Set(try ConvoyCLITests.ids(scratch.file("m.ndjson"))) == Set(filtered))
    }

    @Test func fromExportReadsTheIDsOfAnExportFolder() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let ids = MockConversationStore.sampleIDs(count: 30, seed: 8)
        let folder = scratch.file("export")
        try FileManager.default.createDirectory(atPath: folder + "/2026-03", withIntermediateDirectories: true)
        for (index, id) in ids.enumerated() {
            let metadata = #"{"conversationId":"\#(id)","recordingId":"\#(UUID())","media":"audio"}"#
            try metadata.write(toFile: "\(folder)/2026-03/\(index).json", atomically: true, encoding: .utf8)
        }
        let (status, console) = await convoy(
            [
                "fetch", "--from-export", folder, "--api-base", server.baseURL.absoluteString, "--output",
                scratch.file("o.ndjson"), "--no-progress",
            ])
        #expect(status == 0, "\(console.capturedError)")
        #expect(Set(try ConvoyCLITests.ids(scratch.file("o.ndjson"))) == Set(ids))
        // The manifest fingerprints every export file, and verify accounts for the export's ids.
        let manifest = try #require(try ManifestLog(path: scratch.file("o.manifest.ndjson")).last()?.manifest)
        #expect(manifest.input.files?.count == ids.count && manifest.input.source == "export:\(folder)")
        let (verified, report) = await convoy(["verify", scratch.file("o.ndjson"), "--from-export", folder])
        #expect(verified == 0, "\(report.capturedOutput)")
        let late = MockConversationStore.sampleIDs(count: 1, seed: 80)[0]
        try #"{"conversationId":"\#(late)"}"#.write(toFile: "\(folder)/late.json", atomically: true, encoding: .utf8)
        let (unaccounted, missing) = await convoy(["verify", scratch.file("o.ndjson"), "--from-export", folder])
        #expect(unaccounted == 1 && missing.capturedOutput.contains("1 input ids are in neither file: \(late)"))
    }

    @Test func shardsAreDisjointAndCoverTheInput() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let ids = MockConversationStore.sampleIDs(count: 90, seed: 9)
        let input = try writeIDs(ids, in: scratch)
        var union: [String] = []
        for k in 1...3 {
            let (status, console) = await convoy(
                [
                    "fetch", input, "--shard", "\(k)/3", "--api-base", server.baseURL.absoluteString, "--output",
                    scratch.file("s\(k).ndjson"), "--no-progress",
                ])
            #expect(status == 0)
            let part = try ConvoyCLITests.ids(scratch.file("s\(k).ndjson"))
            #expect(!part.isEmpty)
            #expect(Set(union).isDisjoint(with: part))
            #expect(console.capturedError.contains("\(ids.count - part.count)  (other shards' ids"))
            // Each shard's output accounts for exactly its shard of the input.
            let (verified, report) = await convoy(["verify", scratch.file("s\(k).ndjson"), "--input", input])
            #expect(verified == 0, "\(report.capturedOutput)")
            #expect(report.capturedOutput.contains("input: \(part.count) ids of shard \(k)/3"))
            union += part
        }
        #expect(union.count == ids.count && Set(union) == Set(ids))
    }

    @Test func regionsAreCheckedAndListed() async {
        let (status, console) = await convoy(["fetch", "ids.txt", "--region", "mars-1"])
        #expect(status == 64)
        #expect(console.capturedError.contains("eu-west-1 (mypurecloud.ie)"))
    }
}
