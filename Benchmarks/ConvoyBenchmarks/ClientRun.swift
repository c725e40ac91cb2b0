import Convoy
import ConvoyMock
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What one strategy did on one profile, measured inside its own process (so CPU and peak RSS
/// are the client's alone; the mock runs in another process).
struct ClientResult: Codable, Sendable {
    var strategy: Strategy
    var fetched = 0
    /// Ids answered with a permanent failure (404): the budget was spent on them, usefully.
    var notFound = 0
    /// Ids given up after retries.
    var failed = 0
    /// Ids still unfinished at the deadline.
    var unfinished = 0
    /// Ids that vanished: neither fetched, failed nor unfinished. Must be 0.
    var lost = 0
    /// Ids recorded more than once. Must be 0.
    var duplicated = 0
    var requests = 0
    var throttled = 0
    var retries = 0
    var wallSeconds = 0.0
    var cpuSeconds = 0.0
    var peakRSSMiB = 0.0
    var latencyMilliseconds: [Double] = []
    var timeline: [Timeline.Bucket] = []
}

extension ClientResult {
    /// Several processes' results as one run's: counts added, the wall the longest, the memory the
    /// largest; latency and timeline are the first process's.
    static func combining(_ results: [ClientResult]) -> ClientResult {
        guard var total = results.first else { preconditionFailure("no results") }
        for other in results.dropFirst() {
            total.fetched += other.fetched
            total.notFound += other.notFound
            total.failed += other.failed
            total.unfinished += other.unfinished
            total.lost += other.lost
            total.duplicated += other.duplicated
            total.requests += other.requests
            total.throttled += other.throttled
            total.retries += other.retries
            total.wallSeconds = max(total.wallSeconds, other.wallSeconds)
            total.cpuSeconds += other.cpuSeconds
            total.peakRSSMiB = max(total.peakRSSMiB, other.peakRSSMiB)
        }
        return total
    }
}

/// Counts every request through the transport into the timeline.
struct InstrumentedTransport: HTTPTransport {
    let base: any HTTPTransport
    let timeline: Timeline
    let counters: Locked<(requests: Int, throttled: Int)>

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let started = ContinuousClock.now
        timeline.sent()
        counters.update { $0.requests += 1 }
        do {
            let response = try await base.send(request)
            timeline.answered(status: response.status, latency: (ContinuousClock.now - started).seconds)
            if response.status == 429 { counters.update { $0.throttled += 1 } }
            return response
        } catch {
            timeline.answered(status: nil, latency: (ContinuousClock.now - started).seconds)
            throw error
        }
    }
}

/// A value shared between tasks behind a mutex.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func update<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

/// Runs one strategy against `base` and measures it.
struct ClientRun {
    let strategy: Strategy
    let base: URL
    let ids: [String]
    let deadline: Duration
    /// The mock's OAuth client, when the profile requires tokens (Convoy only).
    var oauth: MockOAuth? = nil
    /// The limit the told-limit strategy is told: requests per window.
    var told: (limit: Int, window: Double)? = nil
    let concurrency = 16

    func run() async throws -> ClientResult {
        let timeline = Timeline()
        let counters = Locked<(requests: Int, throttled: Int)>((0, 0))
        // Convoy on the transport `convoy fetch` ships with; the peers on URLSession, as scripts are.
        let base: any HTTPTransport =
            strategy == .convoy
            ? DefaultTransport(maxConnectionsPerHost: concurrency)
            : URLSessionTransport(maxConnectionsPerHost: concurrency)
        let transport = InstrumentedTransport(base: base, timeline: timeline, counters: counters)
        let cpuBefore = Self.cpuSeconds()
        let started = ContinuousClock.now
        var result: ClientResult
        switch strategy {
        case .convoy:
            result = try await runConvoy(transport, timeline: timeline)
        case .sdkStyle, .forumFix, .naive, .bare, .toldLimit:
            result = await runBaseline(transport)
        }
        result.wallSeconds = (ContinuousClock.now - started).seconds
        result.cpuSeconds = Self.cpuSeconds() - cpuBefore
        result.peakRSSMiB = Self.peakRSSMiB()
        (result.requests, result.throttled) = counters.update { ($0.requests, $0.throttled) }
        result.latencyMilliseconds = timeline.percentiles
        result.timeline = timeline.buckets
        return result
    }

    // MARK: - Convoy

    private func runConvoy(_ transport: InstrumentedTransport, timeline: Timeline) async throws -> ClientResult {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("convoy-bench-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = folder + "/out.ndjson"
        let errors = folder + "/errors.ndjson"
        var configuration = FetchConfiguration(apiBase: base)
        configuration.concurrency = concurrency
        // As `convoy fetch` does with an ids file; CONVOY_BENCH_WORK_UNKNOWN=1 runs it as if from
        // standard input (no last-window finish), for an A/B in one session.
        if ProcessInfo.processInfo.environment["CONVOY_BENCH_WORK_UNKNOWN"] == nil {
            configuration.expectedIDs = ids.count
        }
        let credentials: any CredentialProvider =
            oauth.map {
                OAuthClientCredentials(
                    credentials: ClientCredentials(clientID: $0.clientId, clientSecret: $0.clientSecret),
                    loginBase: base,
                    transport: URLSessionTransport(maxConnectionsPerHost: 2), clock: ContinuousClock())
            } ?? StaticCredentials(token: nil)
        let engine = FetchEngine(
            configuration: configuration, transport: transport, credentials: credentials, clock: ContinuousClock())
        let store = UncheckedSendable(try OutputStore(outputPath: output, errorsPath: errors))
        let lines = ids.enumerated().map { (line: $0.offset + 1, item: InputLine(parsing: Substring($0.element))) }
        let input = AsyncStream<IDReader.Element> { continuation in
            for line in lines { continuation.yield(line) }
            continuation.finish()
        }
        let work = Task { try await engine.run(ids: input, store: store.value) }
        let sampler = Task {
            while !Task.isCancelled {
                timeline.budget(engine.limiter.snapshot().rate)
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        let timer = Task {
            try await Task.sleep(for: deadline)
            work.cancel()
        }
        let summary = try await work.value
        timer.cancel()
        sampler.cancel()

        var result = ClientResult(strategy: .convoy)
        var seen: [String: Int] = [:]
        var written: [String] = []
        try NDJSONFile.forEachLine(atPath: output) { line in
            let id = String(decoding: line.dropFirst(7).prefix(36), as: UTF8.self)
            written.append(id)
            seen[id, default: 0] += 1
        }
        var notFound = 0
        var failed = 0
        try NDJSONFile.forEachLine(atPath: errors) { line in
            let object = try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
            let id = object["id"] as! String
            seen[id, default: 0] += 1
            if object["status"] as? Int == 404 { notFound += 1 } else { failed += 1 }
        }
        result.fetched = written.count
        result.notFound = notFound
        result.failed = failed
        result.duplicated = seen.values.filter { $0 > 1 }.count
        result.unfinished = summary.interrupted ? ids.count - seen.count : 0
        result.lost = summary.interrupted ? 0 : ids.count - seen.count
        result.retries = summary.retries
        return result
    }

    // MARK: - Baselines

    /// What each id ended as.
    private enum Outcome: Sendable { case fetched, notFound, failed }

    private func runBaseline(_ transport: InstrumentedTransport) async -> ClientResult {
        let next = Locked<Int>(0)
        let outcomes = Locked<[String: [Outcome]]>([:])
        let retries = Locked<Int>(0)
        let workers = strategy == .forumFix ? 1 : concurrency
        let end = ContinuousClock.now + deadline
        let bucket = told.map { ClientBucket(capacity: Double($0.limit), perSecond: Double($0.limit) / $0.window) }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask { [ids, base, strategy] in
                    while ContinuousClock.now < end {
                        let index = next.update { value -> Int in
                            defer { value += 1 }
                            return value
                        }
                        guard index < ids.count else { return }
                        let id = ids[index]
                        let outcome = await Self.fetch(
                            id, strategy: strategy, base: base, transport: transport, until: end, retries: retries,
                            bucket: strategy == .toldLimit ? bucket : nil)
                        if let outcome { outcomes.update { $0[id, default: []].append(outcome) } }
                    }
                }
            }
        }
        var result = ClientResult(strategy: strategy)
        let recorded = outcomes.update { $0 }
        for outcomes in recorded.values {
            switch outcomes.first! {
            case .fetched: result.fetched += 1
            case .notFound: result.notFound += 1
            case .failed: result.failed += 1
            }
        }
        result.duplicated = recorded.values.filter { $0.count > 1 }.count
        result.unfinished = ids.count - recorded.count
        result.retries = retries.update { $0 }
        return result
    }

    /// One id, the baseline's way; nil when the deadline came first.
    private static func fetch(
        _ id: String, strategy: Strategy, base: URL, transport: InstrumentedTransport,
        until end: ContinuousClock.Instant,
        retries: Locked<Int>, bucket: ClientBucket?
    ) async -> Outcome? {
        let request = HTTPRequest(url: base.appendingPathComponent("api/v2/conversations/\(id)"))
        var attempt = 0
        while ContinuousClock.now < end {
            attempt += 1
            if attempt > 1 { retries.update { $0 += 1 } }
            var wait: Duration = .zero
            if let bucket { await bucket.take() }
            do {
                let response = try await transport.send(request)
                switch response.status {
                case 200..<300:
                    guard JSONCompactor.compact(response.body) != nil else { break }
                    return .fetched
                case 404:
                    return .notFound
                case 429:
                    let retryAfter = RateLimitObservation(headers: response.headers, status: 429).retryAfter
                    switch strategy {
                    case .sdkStyle: wait = retryAfter ?? .seconds(3)
                    case .toldLimit: wait = retryAfter ?? .seconds(1)
                    case .forumFix: wait = .seconds(2)
                    default: wait = .zero
                    }
                default:
                    if strategy == .sdkStyle { wait = .seconds(pow(3, Double(min(attempt, 3)))) }
                }
            } catch {
                if strategy == .sdkStyle { wait = .seconds(pow(3, Double(min(attempt, 3)))) }
            }
            if strategy == .bare || attempt >= 50 { return .failed }
            if wait > .zero {
                let remaining = end - ContinuousClock.now
                guard remaining > .zero else { return nil }
                try? await Task.sleep(for: min(wait, remaining))
            }
        }
        return nil
    }

    // MARK: - Process measurements

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
    }

    static func peakRSSMiB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}

/// aiolimiter's `AsyncLimiter`: a bucket of `capacity` that refills at `perSecond`, full at the
/// start; a request takes one, waiting for it when the bucket is empty.
final class ClientBucket: Sendable {
    private let state: Mutex<(tokens: Double, at: ContinuousClock.Instant)>
    private let capacity: Double
    private let perSecond: Double

    init(capacity: Double, perSecond: Double) {
        self.capacity = capacity
        self.perSecond = perSecond
        state = Mutex((capacity, .now))
    }

    func take() async {
        while true {
            let wait: Double = state.withLock { state in
                let now = ContinuousClock.now
                state.tokens = min(capacity, state.tokens + (now - state.at).seconds * perSecond)
                state.at = now
                guard state.tokens < 1 else {
                    state.tokens -= 1
                    return 0
                }
                return (1 - state.tokens) / perSecond
            }
            if wait == 0 { return }
            try? await Task.sleep(for: .seconds(wait))
        }
    }
}

struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
