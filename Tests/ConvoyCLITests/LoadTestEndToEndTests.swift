import Convoy
import ConvoyCLI
import ConvoyMock
import Foundation
import Testing

/// `convoy loadtest` in-process against the mock.
@Suite(.serialized, .timeLimit(.minutes(2))) struct LoadTestEndToEndTests {
    @Test func anOpenModelSendsItsScheduleAndExportsWhatRan() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration(latency: .fixed(.milliseconds(2))))
        defer { server.shutdown() }
        let url = server.baseURL.absoluteString + "/api/v2/conversations/{id}"
        let (status, console) = await convoy([
            "loadtest", url, "--rate", "200/s", "--duration", "2s", "--no-progress", "--threshold", "dropped==0",
            "--threshold", "http_429_rate<1%", "--summary-export", scratch.file("s.json"), "--timeline",
            scratch.file("t.csv"), "--requests", scratch.file("r.ndjson"), "--chart", scratch.file("c.svg"),
        ])
        #expect(status == 0, "\(console.capturedOutput)\(console.capturedError)")
        #expect(server.counters().requests == 400, "exactly the schedule: 200/s for 2 s")
        #expect(console.capturedOutput.contains("400 sent in"))
        #expect(console.capturedOutput.contains("ok   dropped==0"))
        let export = try #require(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch.file("s.json"))))
                as? [String: Any])
        let summary = try #require((export["convoy"] as? [String: Any])?["summary"] as? [String: Any])
        #expect(summary["sent"] as? Int == 400 && summary["ok"] as? Int == 400)
        let timeline = try String(contentsOfFile: scratch.file("t.csv"), encoding: .utf8).split(separator: "\n")
        #expect(timeline.first?.hasPrefix("second,target_rate,sent,ok,throttled") == true)
        #expect(lineCount(scratch.file("r.ndjson")) == 400)
        let chart = try String(contentsOfFile: scratch.file("c.svg"), encoding: .utf8)
        #expect(chart.hasPrefix("<svg") && chart.contains("<polyline") && chart.hasSuffix("</svg>\n"))
    }

    @Test func idsAreFilledInPercentEncoded() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(MockServerConfiguration())
        defer { server.shutdown() }
        let known = MockConversationStore.sampleIDs(count: 1, seed: 31)[0]
        try "\(known)\nnot an id/with spaces\n".write(
            toFile: scratch.file("ids.txt"), atomically: true, encoding: .utf8)
        let (status, console) = await convoy([
            "loadtest", server.baseURL.absoluteString + "/api/v2/conversations/{id}", "--ids", scratch.file("ids.txt"),
            "--rate", "20/s", "--duration", "0.5s", "--no-progress",
        ])
        #expect(status == 0, "\(console.capturedError)")
        #expect(server.counters().requests == 10)
        #expect(server.counters().hitsByID[known] == 5, "the ids are cycled")
        #expect(console.capturedOutput.contains("2xx/3xx 5, 429 0 (0.00 %), other 4xx 5"), "\(console.capturedOutput)")
    }

    @Test func findLimitReportsTheLimiterAndThresholdsJudgeIt() async throws {
        let scratch = try TemporaryDirectory()
        let server = try MockAPIServer.start(
            MockServerConfiguration(
                rateLimit: .fixedWindow(limit: 100, window: .seconds(1)), latency: .fixed(.milliseconds(2))))
        defer { server.shutdown() }
        let url = server.baseURL.absoluteString + "/api/v2/conversations/{id}"
        let tokens = scratch.file("tokens.txt")
        try "token-one\ntoken-two\n".write(toFile: tokens, atomically: true, encoding: .utf8)
        let (status, console) = await convoy([
            "loadtest", url, "--find-limit", "--no-progress", "--threshold", "limit>=95/s", "--threshold",
            "limit<=105/s", "--summary-export", scratch.file("s.json"), "--tokens", tokens,
        ])
        let output = console.capturedOutput
        #expect(status == 0, "\(output)\(console.capturedError)")
        #expect(output.contains("kind       fixed window"), "\(output)")
        #expect(output.contains("limit      100 per "), "\(output)")
        #expect(output.contains("remaining is honest"))
        #expect(output.contains("were refused too: the tokens share one budget"), "the mock's budget is per server")
        #expect(!output.contains("token-one") && !output.contains("token-two"), "tokens never in the output")
        let export = try #require(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch.file("s.json"))))
                as? [String: Any])
        #expect((export["limiter"] as? [String: Any])?["kind"] as? String == "fixed window")

        let (failed, judged) = await convoy([
            "loadtest", url, "--rate", "300/s", "--duration", "1s", "--no-progress", "--threshold", "http_429_rate<1%",
        ])
        #expect(failed == 99, "a 300/s load on a 100/s limit draws 429s: \(judged.capturedOutput)")
        #expect(judged.capturedOutput.contains("FAIL http_429_rate<1%"))
    }

    @Test(arguments: [
        (
            ["loadtest"],
            "convoy loadtest needs a target URL, e.g. convoy loadtest https://api.example.com/items --rate 10/s --duration 30s"
        ),
        (
            ["loadtest", "https://x.example/a"],
            "choose the load: --rate R --duration D, --stage D:R…, --vus N --duration D, or --find-limit"
        ),
        (
            ["loadtest", "https://x.example/a", "--rate", "10/s"],
            "--rate needs --duration (e.g. --duration 30s): a load test must end"
        ),
        (
            ["loadtest", "https://x.example/a", "--stage", "30s"],
            "--stage takes DURATION:RATE such as 30s:100/s, not '30s'"
        ),
        (
            ["loadtest", "http://gateway.internal/a", "--find-limit"],
            "plain http to gateway.internal may carry a token in clear: use https, or --insecure-http for an internal gateway"
        ),
        (
            ["loadtest", "https://x.example/a", "--find-limit", "--threshold", "p98<1s"],
            "--threshold takes METRIC OP VALUE, e.g. 'p99<500ms' or 'http_429_rate<1%', not 'p98<1s'; metrics: "
                + "p50, p90, p95, p99, p99.9, max, http_429_rate, http_req_failed, rate, dropped, limit"
        ),
    ])
    func badInputIsAUsageError(_ arguments: [String], _ message: String) async {
        let (status, console) = await convoy(arguments)
        #expect(status == 64)
        #expect(console.capturedError.hasPrefix("convoy: error: \(message)\n"), "\(console.capturedError)")
    }
}
