import Synchronization

/// A clock that moves only when a test says so, for testing time-based code without sleeping.
///
/// `sleep(until:)` suspends until ``advance(by:)`` moves `now` to or past the deadline; sleepers
/// due at the same time wake in the order they went to sleep. Cancelling a sleeping task wakes it
/// with `CancellationError`. ``sleeperCount`` and ``waitForSleepers(_:)`` let a test wait until the
/// code under test has actually gone to sleep before advancing; the wait ends with
/// `CancellationError` when the test is cancelled (a time limit), so a test whose code never
/// sleeps fails instead of spinning forever.
public final class ManualClock: Clock, Sendable {
    /// A point on the manual clock: the time advanced since the clock was made.
    public struct Instant: InstantProtocol, Sendable, Hashable, Comparable, CustomStringConvertible {
        public let offset: Duration

        public init(offset: Duration) {
            self.offset = offset
        }

        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        public var description: String { "t+\(offset)" }
    }

    private struct Sleeper {
        let id: UInt64
        let deadline: Instant
        let continuation: CheckedContinuation<Void, Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .zero }

    /// Tasks currently asleep on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline anyone sleeps until, if anyone does.
    public var nextDeadline: Instant? { state.withLock { $0.sleepers.map(\.deadline).min() } }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                let immediate: Result<Void, Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let sleeper: Sleeper? = state.withLock { state in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves `now` forward by `duration` and wakes every sleeper whose deadline has come.
    public func advance(by duration: Duration) {
        advance { $0.advanced(by: duration) }
    }

    /// Moves `now` to `instant` (never backwards) and wakes whoever is due.
    public func advance(to instant: Instant) {
        advance { Swift.max($0, instant) }
    }

    /// Moves `now` to `target(now)`, read and written under one lock, and wakes whoever is due.
    private func advance(_ target: (Instant) -> Instant) {
        let due: [Sleeper] = state.withLock { state in
            state.now = target(state.now)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }.sorted { $0.deadline < $1.deadline }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Runs `operation`, moving time to the next deadline whenever someone sleeps on this clock,
    /// until it returns: for code whose waits are all on this clock, when a test checks the instants
    /// afterwards rather than stepping through them. Cancelling the caller cancels the operation.
    public func advancingWhileAsleep<T: Sendable>(
        _ operation: @escaping @Sendable () async throws -> T
    )
        async throws -> T
    {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                while true {
                    try await waitUntil(timeout: .seconds(3600)) { self.sleeperCount > 0 }
                    if let next = self.nextDeadline { self.advance(to: next) }
                }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw CancellationError()
        }
    }

    /// Yields until at least `count` tasks sleep on this clock.
    /// - Throws: `CancellationError` when the waiting task is cancelled first.
    public func waitForSleepers(_ count: Int) async throws {
        while sleeperCount < count {
            try Task.checkCancellation()
            await Task.yield()
        }
    }
}
