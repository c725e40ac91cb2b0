import Convoy
import ConvoyLoad
import ConvoyMock
import Foundation
import Testing

/// `--find-limit` against the mock's four limiter kinds, two sizes each, on the real clock. How long
/// a probe takes is measured in Benchmarks/ (`ConvoyBenchmarks --loadtest`), not asserted here.
@Suite(.serialized, .timeLimit(.minutes(3))) struct LimitFinderEndToEndTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var limit: MockRateLimit
        var kind: LimiterReport.Kind
        var testDescription: String { "\(limit)" }
    }

    /// The client must send well above the limit for a window's clump, a bucket's rate or a
    /// queue's delay to show. A debug client was seen to send 120 requests in 0.39 s alone and 300
    /// in 0.69 s beside the rest of the suite, which smeared a clump of 300 into a bucket and a
    /// queue of 200/s into a window, so every case here stays at or below 60/s; release
    /// builds probe 100/s and more in Benchmarks/ (`ConvoyBenchmarks --loadtest`). A queue's burst
    /// is read to within one request, so the bursts here are 12 and more (±10 % is at least 1).
    static let cases: [Case] = [
        Case(limit: .fixedWindow(limit: 50, window: .seconds(1)), kind: .fixedWindow),
        Case(limit: .fixedWindow(limit: 60, window: .seconds(2)), kind: .fixedWindow),
        Case(limit: .slidingWindow(limit: 50, window: .seconds(1)), kind: .slidingWindow),
        Case(limit: .slidingWindow(limit: 60, window: .seconds(2)), kind: .slidingWindow),
        Case(limit: .tokenBucket(capacity: 30, refillPerSecond: 50), kind: .tokenBucket),
        Case(limit: .tokenBucket(capacity: 60, refillPerSecond: 30), kind: .tokenBucket),
        Case(limit: .leakyQueue(ratePerSecond: 50, burst: 15), kind: .leakyBucket),
        Case(limit: .leakyQueue(ratePerSecond: 30, burst: 12), kind: .leakyBucket),
    ]

    static func probe(_ configuration: MockServerConfiguration) async throws -> (LimiterReport, MockCounters) {
        let server = try MockAPIServer.start(configuration)
        defer { server.shutdown() }
        let base = server.baseURL.appendingPathComponent("api/v2/conversations")
        let runner = LoadRunner(
            transport: URLSessionTransport(maxConnectionsPerHost: 512, timeout: .seconds(10)), clock: ContinuousClock()
        ) { index in
            (
                HTTPRequest(
                    url: base.appendingPathComponent(MockConversationStore.sampleIDs(count: 1, seed: UInt64(index))[0])),
                0
            )
        }
        var finder = LimitFinder(runner: runner, clock: ContinuousClock())
        finder.maximumRate = 1500
        finder.maximumSeconds = 30
        let (report, _) = await finder.run()
        return (report, server.counters())
    }

    static func within(_ value: Double?, _ truth: Double, _ tolerance: Double) -> Bool {
        guard let value else { return false }
        return abs(value - truth) <= tolerance * truth
    }

    @Test(arguments: cases)
    func theKindAndItsFiguresAreInferred(_ testCase: Case) async throws {
        let (report, _) = try await Self.probe(
            MockServerConfiguration(rateLimit: testCase.limit, latency: .fixed(.milliseconds(2))))
        let summary =
            "\(report.kind), limit \(report.limit as Any) per \(report.windowSeconds as Any) s, "
            + "rate \(report.ratePerSecond as Any), burst \(report.burst as Any)\n"
            + report.evidence.joined(separator: "\n") + "\n" + report.headers.joined(separator: "\n")
        #expect(report.kind == testCase.kind, "\(summary)")
        #expect(!report.headersLie, "the mock's headers are honest: \(summary)")
        switch testCase.limit {
        case .fixedWindow(let limit, let window), .slidingWindow(let limit, let window):
            #expect(Self.within(report.limit.map(Double.init), Double(limit), 0.05), "\(summary)")
            #expect(Self.within(report.windowSeconds, window.seconds, 0.10), "\(summary)")
            #expect(Self.within(report.ratePerSecond, Double(limit) / window.seconds, 0.05), "\(summary)")
        case .tokenBucket(let capacity, let rate):
            #expect(Self.within(report.ratePerSecond, rate, 0.05), "\(summary)")
            #expect(Self.within(report.burst.map(Double.init), Double(capacity), 0.10), "\(summary)")
        case .leakyQueue(let rate, let burst):
            #expect(Self.within(report.ratePerSecond, rate, 0.05), "\(summary)")
            #expect(Self.within(report.burst.map(Double.init), Double(burst), 0.10), "\(summary)")
        default:
            Issue.record("no expectation for \(testCase.limit)")
        }
    }

    @Test func lyingHeadersAreReportedAsLies() async throws {
        var configuration = MockServerConfiguration(
            rateLimit: .fixedWindow(limit: 100, window: .seconds(2)), latency: .fixed(.milliseconds(2)))
        configuration.lies = MockLies(remainingOffset: 5, retryAfterFactor: 0.5)
        let (report, _) = try await Self.probe(configuration)
        let text = report.headers.joined(separator: "\n")
        #expect(report.kind == .fixedWindow && report.limit == 100, "\(report.evidence)")
        #expect(report.headersLie)
        #expect(text.contains("remaining LIES: 429s began while the last answer said 5 remained"), "\(text)")
        #expect(text.contains("Retry-After LIES"), "\(text)")

        let (honest, _) = try await Self.probe(
            MockServerConfiguration(
                rateLimit: .fixedWindow(limit: 100, window: .seconds(2)), latency: .fixed(.milliseconds(2))))
        #expect(!honest.headersLie, "\(honest.headers)")
        #expect(honest.headers.joined().contains("remaining is honest"))
        #expect(honest.headers.joined().contains("Retry-After is honest"))
    }
}
