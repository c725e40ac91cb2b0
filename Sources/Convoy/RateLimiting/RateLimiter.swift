import Foundation
import Synchronization

/// One shared budget for every request to a host: callers `acquire()` a permit before sending and
/// hand the answer back, and the limiter paces them so the server's budget is used without 429s.
///
/// The decisions live in ``RateLimiterState``; this type adds waiting. Waiters queue in FIFO order
/// and a single timer task releases them one at a time when the state says the next may go.
/// Invariant: a permit is taken from the state, under the lock, *before* the waiter resumes, so no
/// two waiters can spend the same budget across a suspension (the actor-reentrancy trap of "sleep,
/// then decrement"). When an answer changes the schedule (a 429 pauses everyone, a header speeds
/// things up), the timer is re-armed; nobody sleeps on a stale reservation.
///
/// Cancelling a waiting task removes it from the queue and throws `CancellationError`; when the last
/// waiter goes, the timer is cancelled too, so a cancelled run leaves no task behind.
public final class RateLimiter<C: Clock>: Sendable where C.Duration == Duration {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<RateLimitPermit, Error>
    }

    private struct Storage {
        var state: RateLimiterState<C.Instant>
        var waiters: [Waiter] = []
        var head = 0
        var nextWaiterID: UInt64 = 0
        var timer: Task<Void, Never>?
        var timerDeadline: C.Instant?
        var timerGeneration: UInt64 = 0
        var inFlight = 0

        var queued: Int { waiters.count - head }

        /// Stops the timer. A timer task already past its sleep only releases waiters that are due.
        mutating func disarmTimer() {
            timer?.cancel()
            timer = nil
            timerDeadline = nil
            timerGeneration += 1
        }

        mutating func popFirst() -> Waiter? {
            guard head < waiters.count else { return nil }
            let waiter = waiters[head]
            head += 1
            if head > 64, head * 2 > waiters.count {
                waiters.removeFirst(head)
                head = 0
            }
            return waiter
        }
    }

    private let clock: C
    private let storage: Mutex<Storage>

    /// - Parameters:
    ///   - configuration: tuning; the defaults suit Genesys Cloud.
    ///   - clock: the clock to wait on; tests pass a manual clock.
    public init(configuration: RateLimiterConfiguration = .init(), clock: C) {
        self.clock = clock
        self.storage = Mutex(Storage(state: RateLimiterState(configuration: configuration, now: clock.now)))
    }

    deinit {
        storage.withLock { $0.timer?.cancel() }
    }

    /// Waits until a request may be sent and returns its permit.
    /// - Throws: `CancellationError` when the calling task is cancelled while waiting.
    public func acquire() async throws -> RateLimitPermit {
        let id = storage.withLock { storage in
            defer { storage.nextWaiterID += 1 }
            return storage.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RateLimitPermit, Error>) in
                let immediate: Result<RateLimitPermit, Error>? = storage.withLock { storage in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    let now = clock.now
                    if storage.queued == 0, let permit = storage.state.admit(now: now) {
                        storage.inFlight += 1
                        return .success(permit)
                    }
                    storage.waiters.append(Waiter(id: id, continuation: continuation))
                    armTimer(&storage, now: now)
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let waiter: Waiter? = storage.withLock { storage in
                guard let index = storage.waiters[storage.head...].firstIndex(where: { $0.id == id }) else {
                    return nil
                }
                let waiter = storage.waiters.remove(at: index)
                if storage.queued == 0 { storage.disarmTimer() }  // nobody left to wake
                return waiter
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Hands back a permit with the answer it got, so the limiter learns from the headers.
    /// - Parameters:
    ///   - status: the HTTP status.
    ///   - observation: the answer's rate-limit headers, already parsed.
    public func complete(_ permit: RateLimitPermit, status: Int, observation: RateLimitObservation) {
        storage.withLock { storage in
            let now = clock.now
            storage.inFlight -= 1
            storage.state.record(permit, status: status, observation: observation, now: now)
            if storage.queued > 0 { armTimer(&storage, now: now) }
        }
    }

    /// Tells the limiter how many requests the run still has to send (nil: unknown), so that the
    /// last window is spent at once (``RateLimiterState/expect(requests:)``).
    public func expect(requests: Int?) {
        storage.withLock { storage in
            let now = clock.now
            storage.state.expect(requests: requests, now: now)
            if storage.queued > 0 { armTimer(&storage, now: now) }
        }
    }

    /// Hands back a permit whose request got no answer (transport error or cancellation).
    public func abandon(_ permit: RateLimitPermit) {
        storage.withLock { storage in
            storage.inFlight -= 1
            storage.state.abandon(permit)
        }
    }

    /// Hands back a permit whose request was never sent (its token went stale while it waited), so
    /// that its place in the window's budget returns.
    public func refund(_ permit: RateLimitPermit) {
        storage.withLock { storage in
            storage.inFlight -= 1
            storage.state.refund(permit)
            if storage.queued > 0 { armTimer(&storage, now: clock.now) }
        }
    }

    /// What the limiter has learned so far.
    public func snapshot() -> RateLimiterSnapshot {
        storage.withLock { $0.state.snapshot(now: clock.now) }
    }

    /// Permits handed out and not yet given back.
    public var inFlight: Int { storage.withLock { $0.inFlight } }

    /// Callers waiting for a permit.
    public var waiting: Int { storage.withLock { $0.queued } }

    // MARK: - Timer

    /// Ensures a timer will fire no later than the head waiter's admission time. Call with the lock held.
    private func armTimer(_ storage: inout Storage, now: C.Instant) {
        let deadline = storage.state.earliestAdmission(now: now)
        if let armed = storage.timerDeadline, armed <= deadline, storage.timer != nil { return }
        storage.disarmTimer()
        storage.timerDeadline = deadline
        let generation = storage.timerGeneration
        storage.timer = Task { [clock, weak self] in
            do {
                try await clock.sleep(until: deadline, tolerance: nil)
            } catch {
                return  // re-armed or shut down; whoever cancelled owns the schedule now
            }
            self?.fire(generation: generation)
        }
    }

    /// Releases every waiter whose time has come, then re-arms for the next.
    private func fire(generation: UInt64) {
        let released: [(CheckedContinuation<RateLimitPermit, Error>, RateLimitPermit)] = storage.withLock { storage in
            if generation == storage.timerGeneration {
                storage.timer = nil
                storage.timerDeadline = nil
            }
            let now = clock.now
            var released: [(CheckedContinuation<RateLimitPermit, Error>, RateLimitPermit)] = []
            while storage.queued > 0, let permit = storage.state.admit(now: now), let waiter = storage.popFirst() {
                storage.inFlight += 1
                released.append((waiter.continuation, permit))
            }
            if storage.queued > 0 { armTimer(&storage, now: now) }
            return released
        }
        for (continuation, permit) in released {
            continuation.resume(returning: permit)
        }
    }
}
