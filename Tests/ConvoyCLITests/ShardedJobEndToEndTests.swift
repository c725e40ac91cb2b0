import Convoy
import ConvoyCLI
import ConvoyMock
import Foundation
import Testing

/// Issue 13: one job on N machines, run the way a Kubernetes Indexed Job or an AWS Batch array job
/// runs it: the same command in N processes, each told only its index by the environment, each
/// reading its own OAuth client from a mounted secret, each with that client's own budget.
@Suite(.serialized, .timeLimit(.minutes(2))) struct ShardedJobEndToEndTests {
    @Test(arguments: ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"])
    func shardsFromTheSchedulersIndexFetchTheInputExactlyOnce(_ variable: String) async throws {
        let scratch = try TemporaryDirectory()
        let shards = 3
        let secrets = (0..<shards).map { "secret-\($0)-\(UUID())" }
        var oauth = MockOAuth(clientId: "client-0", clientSecret: secrets[0])
        for index in 1..<shards { oauth.otherClients["client-\(index)"] = secrets[index] }
        oauth.budgetPerClient = true
        let server = try MockAPIServer.start(
            MockServerConfiguration(
                rateLimit: .fixedWindow(limit: 100, window: .milliseconds(500)), missingPerMille: 10, oauth: oauth))
        defer { server.shutdown() }
        for index in 0..<shards {
            try #"{"clientId":"client-\#(index)","clientSecret":"\#(secrets[index])"}"#.write(
                toFile: scratch.file("client-\(index).json"), atomically: true, encoding: .utf8)
        }
        let ids = MockConversationStore.sampleIDs(count: 900, seed: 13)
        let input = try writeIDs(ids, in: scratch)

        // The same command line for every index, as in the Job's template.
        let command = [
            "fetch", input, "--api-base", server.baseURL.absoluteString, "--shard", "auto/\(shards)",
            "--credentials", scratch.file("client-{index}.json"), "--output", scratch.file("part-{shard}.ndjson"),
            "--no-progress",
        ]
        let processes = try (0..<shards).map { index in
            let process = Process()
            process.executableURL = try convoyExecutable()
            process.arguments = command
            process.environment = [variable: "\(index)", "PATH": "/usr/bin:/bin"]
            let stderr = Pipe()
            process.standardError = stderr
            try process.run()
            return (process, stderr)
        }
        var reports: [String] = []
        for (process, stderr) in processes {
            reports.append(String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
            process.waitUntilExit()
            #expect(process.terminationStatus == 2, "the missing ids failed, nothing else: \(reports.last!)")
        }

        var recorded: [String] = []
        for shard in 1...shards {
            let part =
                try ConvoyCLITests.ids(scratch.file("part-\(shard).ndjson"))
                + ConvoyCLITests.ids(scratch.file("part-\(shard).errors.ndjson"))
            let owner = Shard(index: shard, count: shards)
            let expected = ids.filter { owner.contains(ConversationID($0)!) }
            #expect(Set(part) == Set(expected), "shard \(shard) holds its ids and no other")
            recorded += part
        }
        #expect(recorded.count == ids.count, "every id once")
        #expect(Set(recorded) == Set(ids))

        // Each index used its own client, at that client's own budget.
        let counters = server.counters()
        #expect(Set(counters.requestsByClient.keys) == Set((0..<shards).map { "client-\($0)" }))
        for index in 0..<shards {
            let share = counters.requestsByClient["client-\(index)"] ?? 0
            #expect(share >= ids.count / shards - 60 && share <= ids.count / shards + 80, "client-\(index): \(share)")
        }
        #expect(counters.tooManyRequests <= ids.count / 50, "own budgets, no fight: \(counters.tooManyRequests) 429s")
        for report in reports {
            for secret in secrets { #expect(!report.contains(secret)) }
        }
    }

    @Test func autoWithoutAnIndexSaysWhichVariablesItReads() async throws {
        let (status, console) = await convoy(
            ["fetch", "ids.txt", "--api-base", "http://127.0.0.1:1", "--shard", "auto/4"], environment: [:])
        #expect(status == 64)
        #expect(console.capturedError.contains("JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX"))
        let (outOfRange, tooFew) = await convoy(
            ["fetch", "ids.txt", "--api-base", "http://127.0.0.1:1", "--shard", "auto/4"],
            environment: ["JOB_COMPLETION_INDEX": "4"])
        #expect(outOfRange == 64)
        #expect(tooFew.capturedError.contains("not an index 0…3 of 4 shards"))
        let (placeholder, alone) = await convoy(
            ["fetch", "ids.txt", "--api-base", "http://127.0.0.1:1", "--output", "part-{shard}.ndjson"])
        #expect(placeholder == 64)
        #expect(alone.capturedError.contains("which only --shard fills in"))
    }

    @Test func theShardAndItsPlaceholdersResolve() throws {
        #expect(try Shard.resolve("2/4", environment: [:]) == Shard(index: 2, count: 4))
        #expect(
            try Shard.resolve("auto/4", environment: ["AWS_BATCH_JOB_ARRAY_INDEX": "0"]) == Shard(index: 1, count: 4))
        #expect(
            try Shard.resolve("auto/4", environment: ["JOB_COMPLETION_INDEX": "3", "AWS_BATCH_JOB_ARRAY_INDEX": "3"])
                == Shard(index: 4, count: 4))
        #expect(throws: ConvoyError.self) {
            try Shard.resolve("auto/4", environment: ["JOB_COMPLETION_INDEX": "1", "AWS_BATCH_JOB_ARRAY_INDEX": "2"])
        }
        #expect(throws: ConvoyError.self) { try Shard.resolve("auto/0", environment: ["JOB_COMPLETION_INDEX": "0"]) }
        #expect(throws: ConvoyError.self) { try Shard.resolve("5/4", environment: [:]) }
        #expect(
            Shard(index: 3, count: 4).fill("/secrets/client-{index}.json > part-{shard}")
                == "/secrets/client-2.json > part-3")
    }
}
