/// Why ``waitUntil(timeout:_:)`` gave up.
public struct WaitTimedOut: Error, CustomStringConvertible {
    public let timeout: Duration
    public var description: String { "the condition did not hold within \(timeout)" }
}

/// Polls `condition` (yielding, then sleeping 5 ms between checks) until it holds.
///
/// For tests that wait on work running in other tasks or processes. The timeout only bounds a
/// hang; it is never an assertion about speed, so keep it generous.
/// - Throws: ``WaitTimedOut`` after `timeout`, `CancellationError` when the task is cancelled
///   (a test's time limit), or what `condition` throws.
public func waitUntil(timeout: Duration = .seconds(30), _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    var polls = 0
    while try !condition() {
        try Task.checkCancellation()
        guard ContinuousClock.now < deadline else { throw WaitTimedOut(timeout: timeout) }
        polls += 1
        if polls < 100 {
            await Task.yield()
        } else {
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

extension Task where Failure == Error {
    /// The task's value, cancelling the task when the caller is cancelled: a test's time limit
    /// then reaches work that a test started in a task of its own, instead of waiting on it.
    public var valueFollowingCancellation: Success {
        get async throws {
            try await withTaskCancellationHandler {
                try await value
            } onCancel: {
                cancel()
            }
        }
    }
}
