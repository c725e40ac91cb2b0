import Convoy
import ConvoyMock
import Foundation
import Testing

/// How the engine weighs failures that retrying cannot mend: a 2xx that is not the document asked
/// for, a malformed or oversized answer (tried twice, not `maxAttempts` times), and a refused TLS
/// certificate (the run stops at once, saying how to fix it).
@Suite(.timeLimit(.minutes(1))) struct FetchEngineFailureTests {
    static func run(
        _ transport: FakeTransport, ids: [String], maxAttempts: Int = 6
    ) async throws -> (FetchSummary, fetched: [String], failed: [String: String]) {
        let folder = try TemporaryDirectory()
        let store = try OutputStore(outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson"))
        let summary = try await engine(transport, maxAttempts: maxAttempts).run(ids: lines(ids), store: store)
        var failed: [String: String] = [:]
        for line in try readLines(folder.file("e.ndjson")) {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            failed[object["id"] as! String] = object["reason"] as? String
        }
        return (summary, try idsIn(folder.file("o.ndjson")), failed)
    }

    @Test(arguments: [
        (#"{"id":"00000000-0000-4000-8000-000000000063","n":1}"#, "the document of another conversation"),
        (#"{"name":"no id"}"#, "a document that has no id"),
        (#"["an","array"]"#, "a body that is not a JSON object"),
        (#""a string""#, "a body that is not a JSON object"),
        (#"{"id":"tru"#, "a body that is not valid JSON"),
    ])
    func aTwoHundredThatIsNotTheDocumentAskedForIsTriedTwiceThenAnError(body: String, reason: String) async throws {
        let ids = makeIDs(4)
        let transport = FakeTransport { id, _ in
            id == ids[0] ? HTTPResponse(status: 200, body: Data(body.utf8)) : FakeTransport.ok(id)
        }
        let (summary, fetched, failed) = try await Self.run(transport, ids: ids)
        #expect(Set(fetched) == Set(ids.dropFirst()))
        #expect(failed.keys.sorted() == [ids[0]])
        #expect(failed[ids[0]]?.contains(reason) == true, "\(failed[ids[0]] ?? "")")
        #expect(transport.requests.filter { $0 == ids[0] }.count == 2, "a failure that repeats is tried twice")
        #expect(summary.fetched == 3 && summary.failed == 1)
    }

    @Test func aDocumentNamingItsIdInCapitalsIsItsOwn() async throws {
        let ids = makeIDs(2)
        let transport = FakeTransport { id, _ in
            HTTPResponse(status: 200, body: Data(#"{"id":"\#(id.uppercased())"}"#.utf8))
        }
        let (_, fetched, failed) = try await Self.run(transport, ids: ids)
        #expect(Set(fetched) == Set(ids) && failed.isEmpty)
    }

    @Test(arguments: [
        SocketTransportError.malformedAnswer("Content-Length \"+5\""), .responseTooLarge(limit: 1024),
    ])
    func aMalformedOrOversizedAnswerIsTriedTwice(error: SocketTransportError) async throws {
        let ids = makeIDs(3)
        let transport = FakeTransport { id, _ in
            if id == ids[1] { throw error }
            return FakeTransport.ok(id)
        }
        let (_, fetched, failed) = try await Self.run(transport, ids: ids)
        #expect(Set(fetched) == [ids[0], ids[2]])
        #expect(failed[ids[1]] == "transport error: \(error.errorDescription!); gave up after 2 attempts")
        #expect(transport.requests.filter { $0 == ids[1] }.count == 2)
    }

    @Test func aResetIsStillTriedUpToMaxAttempts() async throws {
        let ids = makeIDs(1)
        let transport = FakeTransport { _, _ in throw SocketTransportError.closedMidAnswer("in the head") }
        let (_, _, failed) = try await Self.run(transport, ids: ids, maxAttempts: 5)
        #expect(transport.requests.count == 5)
        #expect(failed[ids[0]]?.hasSuffix("gave up after 5 attempts") == true)
    }

    @Test func aRefusedCertificateStopsTheRunSayingHowToTrustTheServer() async throws {
        let ids = makeIDs(50)
        let transport = FakeTransport { _, _ in
            throw SocketTransportError.tlsRefused("the server's certificate was refused: self-signed certificate")
        }
        let folder = try TemporaryDirectory()
        let store = try OutputStore(outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson"))
        let error = await #expect(throws: ConvoyError.self) {
            _ = try await engine(transport, concurrency: 4).run(ids: lines(ids), store: store)
        }
        #expect(error?.message.contains("self-signed certificate") == true)
        #expect(error?.message.contains("SSL_CERT_FILE") == true, "\(error?.message ?? "")")
        #expect(transport.requests.count <= 4, "no retry, no new request once the first refusal is in")
        #expect(try readLines(folder.file("e.ndjson")).isEmpty, "nothing recorded: a re-run fetches every id")
    }

    @Test func aSelfSignedServerStopsARealRunAtTheFirstHandshake() async throws {
        let server = try OpenSSLServer(serving: [:])
        defer { server.stop() }
        var configuration = FetchConfiguration(apiBase: URL(string: "https://localhost:\(server.port)")!)
        configuration.concurrency = 4
        configuration.limiter.initialRate = 1000
        let engine = FetchEngine(
            configuration: configuration, transport: SocketTransport(maxConnections: 4), clock: ContinuousClock())
        let folder = try TemporaryDirectory()
        let store = try OutputStore(outputPath: folder.file("o.ndjson"), errorsPath: folder.file("e.ndjson"))
        let error = await #expect(throws: ConvoyError.self) {
            _ = try await engine.run(ids: lines(makeIDs(40)), store: store)
        }
        #expect(error?.message.hasPrefix("TLS to localhost failed: the server's certificate was refused: ") == true)
        #expect(engine.progress().requests <= 4, "no retries: \(engine.progress().requests) requests")
    }
}
