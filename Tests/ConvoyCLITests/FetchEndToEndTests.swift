import Convoy
import ConvoyCLI
import ConvoyMock
import Foundation
import Testing

/// `convoy fetch` against the loopback mock API, through real HTTP.
@Suite(.serialized, .timeLimit(.minutes(2))) struct FetchEndToEndTests {
    static let missingPerMille = 50

    /// Writes sample ids, with noise a real input has, and returns (path, all ids).
    static func writeInput(_ scratch: borrowing TemporaryDirectory, count: Int) throws -> (String, [String]) {
        let all = MockConversationStore.sampleIDs(count: count, seed: 7)
        var text = "# conversation ids\n"
        for (index, id) in all.enumerated() {
            text += index % 2 == 0 ? "\(id)\n" : "  \(id.uppercased())\r\n"
            if index == 3 { text += "\nnot-a-uuid\n" }
            if index == 9 { text += #"{"conversationId":"\#(all[0])"}"# + "\n" }  // a duplicate
        }
        let path = scratch.file("ids.txt")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, all)
    }

    static func fetch(
        _ server: MockAPIServer, _ input: String, _ scratch: borrowing TemporaryDirectory, _ extra: [String] = []
    )
        async -> (status: Int32, console: Console)
    {
        await convoy(
            [
                "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("out.ndjson"),
                "--errors", scratch.file("errors.ndjson"), "--no-progress",
            ] + extra)
    }

    @Test(arguments: [MockHeaderFamily.genesys, .xRateLimit, .ietf])
    func everyIDLandsOnceUnderEachHeaderFamily(family: MockHeaderFamily) async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(
            MockServerConfiguration(
                rateLimit: .fixedWindow(limit: 100, window: .milliseconds(500)), headerFamily: family,
                latency: .fixed(.milliseconds(20)), missingPerMille: Self.missingPerMille))
        defer { server.shutdown() }
        let (input, all) = try Self.writeInput(scratch, count: 600)
        let (status, console) = await Self.fetch(server, input, scratch)

        let missing = all.filter { !MockConversationStore.exists($0, missingPerMille: Self.missingPerMille) }
        #expect(!missing.isEmpty)
        #expect(status == 2, "some ids failed: \(console.capturedError)")
        let fetched = try ids(scratch.file("out.ndjson"))
        #expect(fetched.count == Set(fetched).count, "no id twice")
        #expect(Set(fetched) == Set(all).subtracting(missing))
        let errors = try records(scratch.file("errors.ndjson"))
        #expect(Set(errors.compactMap { $0["status"] as? Int == 404 ? $0["id"] as? String : nil }) == Set(missing))
        #expect(errors.filter { $0["status"] as? Int != 404 }.map { $0["id"] as? String } == ["not-a-uuid"])
        let counters = server.counters()
        #expect(counters.hitsByID["not-a-uuid"] == nil, "invalid input never reaches the API")
        // How few 429s the limiter draws is a timing property: Benchmarks/ checks it (--smoke).
        #expect(console.capturedError.contains("fetched"))
    }

    @Test func withoutBudgetHeadersNothingIsLost() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(
            MockServerConfiguration(
                rateLimit: .fixedWindow(limit: 100, window: .milliseconds(500)), headerFamily: .none,
                latency: .fixed(.milliseconds(20)), missingPerMille: Self.missingPerMille))
        defer { server.shutdown() }
        let (input, all) = try Self.writeInput(scratch, count: 600)
        let (status, _) = await Self.fetch(server, input, scratch, ["--initial-rate", "50"])
        #expect(status == 2)
        let missing = Set(all.filter { !MockConversationStore.exists($0, missingPerMille: Self.missingPerMille) })
        #expect(try ids(scratch.file("out.ndjson")).sorted() == Set(all).subtracting(missing).sorted())
        #expect(server.counters().tooManyRequests > 0, "the limit was found by its 429s, and they were retried")
    }

    @Test func faultsLoseNothingAndDocumentsStayVerbatim() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(
            MockServerConfiguration(
                faults: MockFaults(serverErrorRate: 0.05, resetRate: 0.03, truncateRate: 0.03, prettyPrintRate: 0.3),
                missingPerMille: 0))
        defer { server.shutdown() }
        let (input, all) = try Self.writeInput(scratch, count: 300)
        let (status, console) = await Self.fetch(server, input, scratch, ["--max-attempts", "12"])
        #expect(status == 2, "only the bad input line fails: \(console.capturedError)")
        let text = try String(contentsOfFile: scratch.file("out.ndjson"), encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(try ids(scratch.file("out.ndjson")).sorted() == all.sorted(), "every id once")
        for line in lines {
            let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let id = object["id"] as! String
            // The server's document is embedded byte for byte (compact form).
            let document = String(decoding: MockConversationStore.conversationDocument(id: id), as: UTF8.self)
            #expect(line.hasSuffix(#","conversation":\#(document)}"#))
        }
        let counters = server.counters()
        #expect(counters.requests > all.count, "faults forced retries")
    }

    @Test func aSecondRunResumesAndFetchesNothingTwice() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration(missingPerMille: Self.missingPerMille))
        defer { server.shutdown() }
        let (input, all) = try Self.writeInput(scratch, count: 200)
        _ = await Self.fetch(server, input, scratch)
        let before = server.counters().requests
        let (status, console) = await Self.fetch(server, input, scratch)
        #expect(status == 0, "nothing left to fail")
        #expect(server.counters().requests == before, "nothing fetched twice")
        #expect(console.capturedError.contains("resuming"))
        let missing = all.filter { !MockConversationStore.exists($0, missingPerMille: Self.missingPerMille) }
        #expect(try ids(scratch.file("out.ndjson")).sorted() == Set(all).subtracting(missing).sorted())
        #expect(try ids(scratch.file("errors.ndjson")).sorted() == (missing + ["not-a-uuid"]).sorted())
    }

    @Test func filesAreOwnerOnly() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let (input, _) = try Self.writeInput(scratch, count: 5)
        _ = await Self.fetch(server, input, scratch)
        for name in ["out.ndjson", "errors.ndjson"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: scratch.file(name))
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        }
    }

    @Test func theTokenNeverAppearsInAnyOutput() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration(faults: MockFaults(serverErrorRate: 0.2)))
        defer { server.shutdown() }
        let (input, _) = try Self.writeInput(scratch, count: 20)
        let secret = "s3cr3t-token-\(UUID())"
        let (_, console) = await convoy(
            [
                "fetch", input, "--api-base", server.baseURL.absoluteString, "--output", scratch.file("out.ndjson"),
                "--no-progress",
            ], environment: ["GENESYSCLOUD_ACCESS_TOKEN": secret])
        #expect(!console.capturedError.contains(secret) && !console.capturedOutput.contains(secret))
        for name in ["out.ndjson", "out.errors.ndjson"] {
            #expect(!(try String(contentsOfFile: scratch.file(name), encoding: .utf8)).contains(secret))
        }
    }
}
