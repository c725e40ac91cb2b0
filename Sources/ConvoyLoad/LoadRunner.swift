import Convoy
import Synchronization

/// Drives load at an HTTP API on a ``LoadSchedule`` and records every request as a ``LoadSample``.
///
/// Open model: the k-th request goes at its due time whatever the answers do; a request that
/// falls due while `maxInFlight` requests are outstanding is not sent and counts as a dropped
/// iteration (k6's term). The sender sleeps only when the next request is more than a millisecond
/// away, so at high rates it sends the requests due in each wake-up together, each stamped with its
/// own due time. Closed model: `users` loops, each sending again as soon as it is answered.
public final class LoadRunner<C: Clock>: Sendable where C.Duration == Duration {
    /// What a run produced.
    public struct Result: Sendable {
        public var samples: [LoadSample]
        /// Due times of the requests not sent because `maxInFlight` were outstanding.
        public var dropped: [Double]
        /// Seconds from start to the last answer.
        public var elapsed: Double
        /// True when the run was cancelled before the end of its schedule.
        public var interrupted: Bool

        public init(samples: [LoadSample], dropped: [Double], elapsed: Double, interrupted: Bool) {
            self.samples = samples
            self.dropped = dropped
            self.elapsed = elapsed
            self.interrupted = interrupted
        }
    }

    private let transport: any HTTPTransport
    private let request: @Sendable (Int) -> (request: HTTPRequest, token: Int)
    private let clock: C
    private let live = Mutex(Progress())

    /// Counters while running, for a progress line.
    public struct Progress: Sendable {
        public var sent = 0
        public var answered = 0
        public var throttled = 0
        public var failed = 0
        public var dropped = 0
        public var inFlight: Int { sent - answered }

        /// Nothing counted yet.
        public init() {}
    }

    /// - Parameters:
    ///   - request: the k-th request (from 0) and the index of the token it carries.
    public init(
        transport: any HTTPTransport, clock: C, request: @escaping @Sendable (Int) -> (request: HTTPRequest, token: Int)
    ) {
        self.transport = transport
        self.clock = clock
        self.request = request
    }

    /// The counters so far.
    public func progress() -> Progress { live.withLock { $0 } }

    /// Runs `schedule` to its end (or until cancelled), with at most `maxInFlight` requests out.
    /// - Parameters:
    ///   - origin: the instant sample times count from (default: the start of this run), so that
    ///     several runs of one probe share a timeline.
    ///   - stop: asked after every answer; true ends the run early (for probes).
    public func run(
        _ schedule: LoadSchedule, maxInFlight: Int, origin: C.Instant? = nil,
        stop: (@Sendable (LoadSample) -> Bool)? = nil
    ) async -> Result {
        let start = clock.now
        let origin = origin ?? start
        let offset = origin.duration(to: start).seconds
        let shared = RunState()
        var dropped: [Double] = []
        @Sendable func seconds(_ instant: C.Instant) -> Double { origin.duration(to: instant).seconds }

        @Sendable func send(_ index: Int, intended: Double) async {
            let (request, token) = self.request(index)
            let sent = seconds(clock.now)
            var sample: LoadSample
            do {
                let response = try await transport.send(request)
                let observation = RateLimitObservation(headers: response.headers, status: response.status)
                sample = LoadSample(
                    intended: intended, sent: sent, answered: seconds(clock.now), status: response.status,
                    observation: observation, token: token)
            } catch {
                if Task.isCancelled { return }
                sample = LoadSample(
                    intended: intended, sent: sent, answered: seconds(clock.now), status: nil, token: token,
                    error: LoadSample.describe(error))
            }
            shared.samples.withLock { $0.append(sample) }
            self.live.withLock {
                $0.answered += 1
                if sample.throttled { $0.throttled += 1 }
                if sample.status == nil || (sample.status ?? 0) >= 500 { $0.failed += 1 }
            }
            if let stop, stop(sample) { shared.stopped.store(true, ordering: .relaxed) }
        }

        await withDiscardingTaskGroup { group in
            switch schedule.model {
            case .open:
                var index = 0
                while !Task.isCancelled, !shared.stopped.load(ordering: .relaxed),
                    let due = schedule.dueTime(ofRequest: index)
                {
                    let wait = offset + due - seconds(clock.now)
                    if wait > 0.001 {
                        try? await clock.sleep(until: start.advanced(by: .seconds(due)), tolerance: nil)
                        continue
                    }
                    let admitted = live.withLock { progress -> Bool in
                        guard progress.inFlight < maxInFlight else {
                            progress.dropped += 1
                            return false
                        }
                        progress.sent += 1
                        return true
                    }
                    if admitted {
                        let current = index
                        group.addTask { await send(current, intended: offset + due) }
                    } else {
                        dropped.append(offset + due)
                    }
                    index += 1
                }
            case .closed(let users, let duration):
                for _ in 0..<users {
                    group.addTask { [clock] in
                        while !Task.isCancelled, !shared.stopped.load(ordering: .relaxed),
                            seconds(clock.now) < offset + duration
                        {
                            let index = shared.counter.add(1, ordering: .relaxed).oldValue
                            self.live.withLock { $0.sent += 1 }
                            let now = seconds(clock.now)
                            await send(index, intended: now)
                        }
                    }
                }
            }
        }
        let interrupted = Task.isCancelled
        let all = shared.samples.withLock { $0 }.sorted { $0.sent < $1.sent }
        return Result(samples: all, dropped: dropped, elapsed: seconds(clock.now), interrupted: interrupted)
    }
}

/// What the tasks of one run share.
private final class RunState: Sendable {
    let samples = Mutex<[LoadSample]>([])
    let stopped = Atomic<Bool>(false)
    /// Request indices handed out (closed model).
    let counter = Atomic<Int>(0)
}
