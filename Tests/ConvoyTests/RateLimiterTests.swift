import Convoy
import ConvoyMock
import Synchronization
import Testing

/// The async limiter on a manual clock: real tasks, no real sleeping.
@Suite(.timeLimit(.minutes(1))) struct RateLimiterTests {
    /// Yields until `condition` holds (the limiter's timer and waiters run on other tasks).
    static func settle(_ condition: () -> Bool) async {
        for _ in 0..<10_000 where !condition() { await Task.yield() }
    }

    /// Gives the limiter's tasks a chance to run when nothing is expected to happen.
    static func idle() async {
        for _ in 0..<500 { await Task.yield() }
    }

    @Test func releasesWaitersOneAtATimeAtThePace() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(configuration: .init(initialRate: 1, slack: .zero), clock: clock)
        let admitted = Counter()
        let tasks = (0..<4).map { _ in
            Task {
                _ = try await limiter.acquire()
                admitted.increment()
            }
        }
        await Self.settle { admitted.value == 1 && limiter.waiting == 3 }
        #expect(admitted.value == 1, "the first goes at once")
        try await clock.waitForSleepers(1)
        for second in 1...3 {
            clock.advance(by: .milliseconds(999))
            await Self.idle()
            #expect(admitted.value == second, "nobody goes early")
            clock.advance(by: .milliseconds(1))
            await Self.settle { admitted.value == second + 1 }
            #expect(admitted.value == second + 1, "exactly one per second")
            if second < 3 { try await clock.waitForSleepers(1) }
        }
        for task in tasks { try await task.value }
        #expect(limiter.inFlight == 4)
    }

    @Test func aThrottleHoldsBackEveryQueuedWaiter() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(configuration: .init(initialRate: 100), clock: clock)
        let first = try await limiter.acquire()
        let admitted = Counter()
        let tasks = (0..<3).map { _ in
            Task {
                _ = try await limiter.acquire()
                admitted.increment()
            }
        }
        await Self.settle { limiter.waiting == 3 }
        limiter.complete(first, status: 429, observation: RateLimitObservation(retryAfter: .seconds(10)))
        try await clock.waitForSleepers(1)
        clock.advance(by: .seconds(9))
        await Self.idle()
        #expect(admitted.value == 0, "the pause holds everyone, not only the throttled request")
        clock.advance(by: .seconds(1))
        await Self.settle { admitted.value == 1 }
        #expect(admitted.value == 1, "after the pause they leave paced, not as a herd")
        try await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        await Self.settle { admitted.value == 3 }
        for task in tasks { try await task.value }
    }

    @Test func cancellingAWaiterRemovesIt() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(configuration: .init(initialRate: 1), clock: clock)
        _ = try await limiter.acquire()
        let waiting = Task { try await limiter.acquire() }
        await Self.settle { limiter.waiting == 1 }
        waiting.cancel()
        // Bounded: a waiter that stayed queued would never resume, and awaiting it would hang.
        try await waitUntil(timeout: .seconds(5)) { limiter.waiting == 0 }
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(limiter.inFlight == 1)
    }

    @Test func concurrentAcquirersNeverShareABudget() async throws {
        // 100 tasks race for a window of 10: exactly 10 permits before the reset, however they interleave.
        let clock = ManualClock()
        let limiter = RateLimiter(configuration: .init(initialRate: 1_000_000), clock: clock)
        let seed = try await limiter.acquire()
        limiter.complete(seed, status: 200, observation: genesys(remaining: 10, limit: 11, reset: 1))
        let admitted = Counter()
        let tasks = (0..<100).map { _ in
            Task {
                _ = try await limiter.acquire()
                admitted.increment()
            }
        }
        // Walk the clock to just before the reset in small steps, waking each waiter in turn.
        for _ in 0..<333 {
            clock.advance(by: .milliseconds(3))
            await Self.idle()
        }
        #expect(admitted.value == 10)
        for task in tasks { task.cancel() }
        for task in tasks { _ = try? await task.value }
    }
}

/// A counter that tasks share.
final class Counter: Sendable {
    private let atomic = Atomic<Int>(0)
    func increment() { atomic.add(1, ordering: .relaxed) }
    var value: Int { atomic.load(ordering: .relaxed) }
}
