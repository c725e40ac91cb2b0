import Convoy
import ConvoyLoad
import ConvoyMock
import Foundation

/// `--loadtest`: how well `convoy loadtest`'s open model keeps a rate, and its ceiling beside
/// `hey`'s, against the same unlimited mock (in a child process) in one run.
///
/// 1. **Hold**: 2,000 requests/s for `seconds` (30 by default): the rate sent, the share dropped,
///    and the send lag.
/// 2. **Ceiling**: an open model far above what the machine can do (50,000/s) with at most
///    `concurrency` requests out, for 10 s: the rate achieved is the ceiling; the rest is dropped.
/// 3. **hey** with `-c concurrency -z 10s` on the same URL: its Requests/sec.
/// 4. **`--find-limit`** against each of the mock's limiters (100 per 1 s, 5 ms latency): what it
///    inferred, how many requests and seconds the probe took, and the load in windows.
struct LoadBenchmark {
    var executable: URL
    var scaleArguments: [String]
    var seconds = 30.0
    var rate = 2000.0
    var concurrency = 50

    func run() async throws {
        let host = try MockHost(executable: executable, arguments: ["--scenario", "unlimited"] + scaleArguments)
        defer { host.stop() }
        let id = "aaaaaaaa-0000-4000-8000-000000000001"
        let url = host.baseURL.appendingPathComponent("api/v2/conversations/\(id)")
        func runner() -> LoadRunner<ContinuousClock> {
            LoadRunner(transport: URLSessionTransport(maxConnectionsPerHost: 1024), clock: ContinuousClock()) { _ in
                (HTTPRequest(url: url), 0)
            }
        }
        print(
            "loadtest: open model against the unlimited mock (no latency), \(ProcessInfo.processInfo.activeProcessorCount) cores"
        )
        let hold = await runner().run(.constant(rate: rate, duration: seconds), maxInFlight: 1000)
        let held = LoadSummary(samples: hold.samples, dropped: hold.dropped, elapsed: hold.elapsed, schedule: nil)
        let perSecond = held.timeline.dropLast().map(\.sent)
        print(
            "| run | target/s | sent/s | ÷ target | dropped | per-second sent (min–max) | p50 ms | p99 ms | max send lag ms |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        print(
            "| hold \(Int(seconds)) s | \(Int(rate)) | \(f(held.rate)) | \(f3(held.rate / rate)) | \(held.dropped) | "
                + "\(perSecond.min() ?? 0)–\(perSecond.max() ?? 0) | \(f(held.latency.p50)) | \(f(held.latency.p99)) | "
                + "\(f(held.maximumSendLagMilliseconds)) |")
        let ceiling = await runner().run(.constant(rate: 50_000, duration: 10), maxInFlight: concurrency)
        let top = LoadSummary(
            samples: ceiling.samples, dropped: ceiling.dropped, elapsed: ceiling.elapsed, schedule: nil)
        print(
            "| ceiling, \(concurrency) in flight | 50000 | \(f(top.rate)) | — | \(top.dropped) | — | \(f(top.latencyFromSend.p50)) | "
                + "\(f(top.latencyFromSend.p99)) | — |")
        if let hey = try heyRate(url: url) {
            print("| hey -c \(concurrency) -z 10s | — | \(f(hey)) | — | — | — | — | — | — |")
            print("ceiling ratio convoy ÷ hey: \(f3(top.rate / hey))")
        } else {
            print("hey is not installed (apt-get install hey): no comparison")
        }
        try await findLimit()
    }

    /// Probe 4: the inference against each limiter kind, timed.
    private func findLimit() async throws {
        let limits: [(String, MockRateLimit)] = [
            ("fixed window 100/1 s", .fixedWindow(limit: 100, window: .seconds(1))),
            ("sliding window 100/1 s", .slidingWindow(limit: 100, window: .seconds(1))),
            ("token bucket 100/s, depth 50", .tokenBucket(capacity: 50, refillPerSecond: 100)),
            ("leaky bucket 100/s, burst 20", .leakyQueue(ratePerSecond: 100, burst: 20)),
        ]
        print("\n--find-limit against the mock (in this process), 5 ms latency:")
        print("| mock limiter | inferred | limit or rate | burst | requests | seconds |")
        print("|---|---|---|---|---|---|")
        for (name, limit) in limits {
            let server = try MockAPIServer.start(
                MockServerConfiguration(rateLimit: limit, latency: .fixed(.milliseconds(5))))
            let base = server.baseURL.appendingPathComponent(
                "api/v2/conversations/aaaaaaaa-0000-4000-8000-000000000001")
            let runner = LoadRunner(
                transport: URLSessionTransport(maxConnectionsPerHost: 512), clock: ContinuousClock()
            ) { _ in
                (HTTPRequest(url: base), 0)
            }
            let (report, _) = await LimitFinder(runner: runner, clock: ContinuousClock()).run()
            server.shutdown()
            let figure =
                report.limit.map { "\($0) per \(f(report.windowSeconds ?? 0)) s" }
                ?? "\(f(report.ratePerSecond ?? 0))/s"
            print(
                "| \(name) | \(report.kind.rawValue) (\(report.confidence.rawValue)) | \(figure) | "
                    + "\(report.burst.map(String.init) ?? "—") | \(report.requests) | \(f(report.seconds)) |")
        }
    }

    private func heyRate(url: URL) throws -> Double? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/hey") else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/hey")
        process.arguments = ["-c", "\(concurrency)", "-z", "10s", url.absoluteString]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard let line = text.split(separator: "\n").first(where: { $0.contains("Requests/sec:") }) else { return nil }
        return Double(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces))
    }

    private func f(_ value: Double) -> String { String(format: "%.2f", value) }
    private func f3(_ value: Double) -> String { String(format: "%.3f", value) }
}
