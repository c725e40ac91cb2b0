import Convoy
import ConvoyMock
import Foundation
import Glibc
import Testing

/// `convoy fetch` and `convoy loadtest`, the real processes, against servers that break the rules
/// (`HostileServer`), one case a row. Each case must end by itself with exit 0, 1 or 2, keep its
/// peak RSS within 256 MiB, put every id in exactly one file (the output or the errors, with a
/// reason) and never record a document for another id.
@Suite(.serialized, .timeLimit(.minutes(3))) struct HostileServerEndToEndTests {
    static let ids = MockConversationStore.sampleIDs(count: 20, seed: 22)
    /// For the cases that load every connection at once: ids 1–20 as above, and more.
    static let manyIDs = MockConversationStore.sampleIDs(count: 64, seed: 22)
    /// Half the ids, which the cases below single out for their misbehaviour.
    static let singled = Set(ids.prefix(10))

    /// What a case expects of the two files.
    enum Expect {
        /// Every id in the output.
        case allFetched
        /// The singled-out ids in the errors file with a reason containing the text; the rest fetched.
        case singledFail(String)
        /// Every id in the errors file with a reason containing the text.
        case allFail(String)
        /// Each id in the output or in the errors file with the reason; which one depends on timing.
        case fetchedOrFailed(String)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let arguments: [String]
        /// Every connection busy at once (64 ids against 16 in flight), where memory is judged.
        var many = false
        let behaviour: @Sendable (HostileServer.Request, HostileServer.Connection) -> HostileServer.Next
        let expect: Expect
        var testDescription: String { name }

        init(
            _ name: String, _ arguments: [String] = [], expect: Expect,
            _ behaviour: @escaping @Sendable (HostileServer.Request, HostileServer.Connection) -> HostileServer.Next
        ) {
            self.name = name
            self.arguments = arguments
            self.behaviour = behaviour
            self.expect = expect
        }
    }

    /// Another id's document: what a desynchronised connection would hand over.
    static func other(_ id: String) -> String {
        HostileServer.document(ids[(ids.firstIndex(of: id).map { $0 + 1 } ?? 0) % ids.count])
    }

    /// Answers `request` as a good server would when its id is not singled out; true when it did.
    static func answersWell(_ request: HostileServer.Request, _ connection: HostileServer.Connection) -> Bool {
        guard !singled.contains(request.id) else { return false }
        connection.write(HostileServer.ok(HostileServer.document(request.id)))
        return true
    }

    /// Writes until the client goes away (or a bound, so that no case can run for ever).
    static func endlessly(_ connection: HostileServer.Connection, _ piece: String, limit: Int = 1 << 31) {
        let bytes = Array(piece.utf8)
        var written = 0
        while written < limit, connection.write(bytes) { written += bytes.count }
    }

    static let cases: [Case] = [
        Case("an unrequested second answer after each", expect: .allFetched) { request, connection in
            connection.write(HostileServer.ok(HostileServer.document(request.id)) + HostileServer.ok(other(request.id)))
            return .keepOpen
        },
        Case("an unrequested second answer that comes late", expect: .fetchedOrFailed("another conversation")) {
            request, connection in
            connection.write(HostileServer.ok(HostileServer.document(request.id)))
            usleep(20_000)
            connection.write(HostileServer.ok(other(request.id)))
            return .keepOpen
        },
        Case("a body after a 204", expect: .allFail("not valid JSON (0 bytes)")) { request, connection in
            let stray = other(request.id)
            connection.write("HTTP/1.1 204 No Content\r\nContent-Length: \(stray.utf8.count)\r\n\r\n" + stray)
            return .keepOpen
        },
        Case("stray bytes after each answer", expect: .allFetched) { request, connection in
            connection.write(HostileServer.ok(HostileServer.document(request.id)) + "\r\nHTTP/1.1 200 OK\r\n\r\n{}")
            return .keepOpen
        },
        Case("Content-Length: 2^63-1", expect: .singledFail("larger than --max-response-size (8 MiB)")) {
            request, connection in
            if answersWell(request, connection) { return .keepOpen }
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n{\"id\":")
            return .close
        },
        Case("a chunk of 2^63-1 bytes", expect: .singledFail("larger than --max-response-size (8 MiB)")) {
            request, connection in
            if answersWell(request, connection) { return .keepOpen }
            connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\n{\"id\":")
            return .close
        },
        Case("an endless chunked body", expect: .singledFail("larger than --max-response-size (8 MiB)")) {
            request, connection in
            if answersWell(request, connection) { return .keepOpen }
            connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            endlessly(connection, "4000\r\n" + String(repeating: " ", count: 0x4000) + "\r\n")
            return .close
        },
        {
            var endless = Case(
                "an endless chunked body for every request, 16 in flight",
                expect: .allFail("larger than --max-response-size")
            ) { _, connection in
                connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                endlessly(connection, "4000\r\n" + String(repeating: " ", count: 0x4000) + "\r\n")
                return .close
            }
            endless.many = true
            return endless
        }(),
        Case("a body that runs to a close that never comes", expect: .singledFail("larger than --max-response-size")) {
            request, connection in
            if answersWell(request, connection) { return .keepOpen }
            connection.write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n[")
            endlessly(connection, String(repeating: "0,", count: 8192))
            return .close
        },
        Case("an endless stream of 100 Continue", expect: .singledFail("interim 1xx answers")) { request, connection in
            if answersWell(request, connection) { return .keepOpen }
            endlessly(connection, "HTTP/1.1 100 Continue\r\n\r\n", limit: 1 << 24)
            return .close
        },
        Case("a trickle of a byte every 50 ms on the first attempt", ["--request-timeout", "1s"], expect: .allFetched) {
            request, connection in
            guard request.attempt == 1 else {
                connection.write(HostileServer.ok(HostileServer.document(request.id)))
                return .keepOpen
            }
            for byte in HostileServer.ok(HostileServer.document(request.id)).utf8 {
                guard connection.write([byte]) else { break }
                usleep(50_000)
            }
            return .close
        },
        Case("a reset part-way through the first answer", expect: .allFetched) { request, connection in
            let answer = HostileServer.ok(HostileServer.document(request.id))
            connection.write(request.attempt == 1 ? String(answer.prefix(answer.count - 10)) : answer)
            return request.attempt == 1 ? .close : .keepOpen
        },
        Case("another conversation's document", expect: .singledFail("the document of another conversation")) {
            request, connection in
            connection.write(
                HostileServer.ok(singled.contains(request.id) ? other(request.id) : HostileServer.document(request.id)))
            return .keepOpen
        },
        Case("a 200 whose body is not an object", expect: .singledFail("not a JSON object")) { request, connection in
            connection.write(
                HostileServer.ok(
                    singled.contains(request.id) ? #"["\#(request.id)"]"# : HostileServer.document(request.id)))
            return .keepOpen
        },
        Case("Content-Length: +60", expect: .singledFail("malformed HTTP answer: Content-Length")) {
            request, connection in
            let body = HostileServer.document(request.id)
            let length = singled.contains(request.id) ? "+\(body.utf8.count)" : "\(body.utf8.count)"
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: \(length)\r\n\r\n" + body)
            return .keepOpen
        },
    ]

    /// Runs the `convoy` executable to its end, sampling its peak resident memory (`VmHWM`).
    static func run(
        _ arguments: [String]
    ) async throws -> (status: Int32, stderr: String, stdout: String, peakMiB: Double) {
        let scratch = try TemporaryDirectory()
        let process = Process()
        process.executableURL = try convoyExecutable()
        process.arguments = arguments
        let errPath = scratch.file("stderr.txt")
        let outPath = scratch.file("stdout.txt")
        FileManager.default.createFile(atPath: errPath, contents: nil)
        FileManager.default.createFile(atPath: outPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        try process.run()
        var peak = 0.0
        while process.isRunning {
            if let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
            {
                peak = max(peak, kilobytes / 1024)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        return (process.terminationStatus, stderr, stdout, peak)
    }

    @Test(arguments: cases) func fetchEndsWithEveryIdInExactlyOneFile(_ testCase: Case) async throws {
        let server = try HostileServer(testCase.behaviour)
        defer { server.stop() }
        let scratch = try TemporaryDirectory()
        let all = testCase.many ? Self.manyIDs : Self.ids
        let input = try writeIDs(all, in: scratch)
        let output = scratch.file("out.ndjson")
        let errors = scratch.file("errors.ndjson")
        let run = try await Self.run(
            [
                "fetch", input, "--api-base", server.url, "--output", output, "--errors", errors, "--no-progress",
                "--initial-rate", "500",
            ] + testCase.arguments)
        #expect([0, 1, 2].contains(run.status), "\(run.stderr)")
        #expect(run.peakMiB <= 256, "peak RSS \(run.peakMiB) MiB")
        let written = try records(output)
        let fetched = written.map { $0["id"] as! String }
        for record in written {
            let document = record["conversation"] as? [String: Any]
            #expect(document?["id"] as? String == record["id"] as? String, "a record holds its own id's document")
        }
        let failures = try records(errors)
        let failed = failures.map { $0["id"] as! String }
        #expect(Set(fetched).isDisjoint(with: failed), "no id in both files")
        #expect(fetched.count + failed.count == all.count, "every id once: \(fetched.count) + \(failed.count)")
        #expect(Set(fetched).union(failed) == Set(all))
        let reasons = failures.map { $0["reason"] as? String ?? "" }
        switch testCase.expect {
        case .allFetched:
            #expect(Set(fetched) == Set(all), "\(reasons.first ?? "")")
            #expect(run.status == 0)
        case .singledFail(let reason):
            #expect(Set(failed) == Self.singled)
            #expect(reasons.allSatisfy { $0.contains(reason) }, "\(reasons.first ?? "")")
            #expect(run.status == 2)
        case .allFail(let reason):
            #expect(Set(failed) == Set(all))
            #expect(reasons.allSatisfy { $0.contains(reason) }, "\(reasons.first ?? "")")
        case .fetchedOrFailed(let reason):
            #expect(reasons.allSatisfy { $0.contains(reason) }, "\(reasons.first ?? "")")
        }
        // A failure that can only repeat is tried twice, not eight times.
        if case .singledFail = testCase.expect {
            for id in Self.singled {
                #expect((server.requestsByID[id] ?? 0) <= 2, "\(id): \(server.requestsByID[id] ?? 0) requests")
            }
        }
    }

    @Test func anEndlessRetryAfterIsCappedAndSaidUnderNoProgress() async throws {
        let first = Self.ids[0]
        let server = try HostileServer { request, connection in
            if request.id == first, request.attempt == 1 {
                connection.write(
                    "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 999999999\r\nContent-Length: 0\r\n\r\n")
            } else {
                connection.write(HostileServer.ok(HostileServer.document(request.id)))
            }
            return .keepOpen
        }
        defer { server.stop() }
        let scratch = try TemporaryDirectory()
        let input = try writeIDs(Self.ids, in: scratch)
        let run = try await Self.run([
            "fetch", input, "--api-base", server.url, "--output", scratch.file("out.ndjson"), "--no-progress",
            "--max-pause", "2s", "--concurrency", "1", "--initial-rate", "500",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            run.stderr.contains(
                "the server asked every request to wait 11574d01h (Retry-After); pausing for 2s, the --max-pause cap"),
            "\(run.stderr)")
        #expect(try ConvoyCLITests.ids(scratch.file("out.ndjson")).count == Self.ids.count)
    }

    @Test(arguments: [
        "Content-Length: 2^63-1", "an endless chunked body", "an endless stream of 100 Continue",
        "a trickle of a byte every 50 ms on the first attempt",
    ])
    func loadtestEndsOnTimeAndPrintsItsSummary(_ name: String) async throws {
        let testCase = try #require(Self.cases.first { $0.name == name })
        let server = try HostileServer(testCase.behaviour)
        defer { server.stop() }
        let scratch = try TemporaryDirectory()
        let idsFile = try writeIDs(Self.ids, in: scratch)
        let run = try await Self.run([
            "loadtest", "\(server.url)/api/v2/conversations/{id}", "--ids", idsFile, "--rate", "20/s", "--duration",
            "2s",
            "--request-timeout", "1s", "--no-progress",
        ])
        #expect([0, 1].contains(run.status), "\(run.stderr)")
        #expect(run.peakMiB <= 256, "peak RSS \(run.peakMiB) MiB")
        #expect(
            run.stdout.contains("requests") || run.stderr.contains("requests"), "a summary: \(run.stdout)\(run.stderr)")
    }
}
