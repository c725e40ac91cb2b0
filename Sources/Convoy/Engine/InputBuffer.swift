import Synchronization

/// The run loop's side of its input: a task reads the input ahead into this bounded queue, so the
/// loop takes ids without ever awaiting the input, and when the queue is empty it waits on the
/// input and on the answers in flight together (a child task that ``waitForInput()``). A slow
/// input (a pipe, a discovery job being polled) then never holds back an answer that is ready to
/// be written.
///
/// One producer task and one consumer (the run loop). Invariants: at most ``capacity`` elements
/// are queued; the producer sleeps while the queue is
/// full and is woken once it is half empty (not at every take); a consumer waiting is woken by
/// the next element or by the end. Both waits end early when their task is cancelled.
final class InputBuffer<Element: Sendable>: Sendable {
    /// What ``take()`` found.
    enum Take {
        case element(Element)
        /// Nothing queued yet; the input goes on.
        case empty
        /// The input ended: normally (nil), or with the error it threw.
        case finished((any Error)?)
    }

    private struct State {
        var queue: [Element] = []
        var head = 0
        var finished = false
        var failure: (any Error)?
        var consumer: CheckedContinuation<Void, Never>?
        var producer: CheckedContinuation<Void, Never>?

        var count: Int { queue.count - head }
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    // MARK: The producer

    /// Queues `element`, first waiting while the queue is full (returns at once when cancelled).
    func push(_ element: Element) async {
        // The common case, room in the queue, takes the lock once and makes no continuation.
        let (queued, woken) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard state.count < capacity else { return (false, nil) }
            state.queue.append(element)
            return (true, state.consumer.take())
        }
        woken?.resume()
        if queued { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let full = state.withLock { state -> Bool in
                    guard state.count >= capacity, !Task.isCancelled else { return false }
                    state.producer = continuation
                    return true
                }
                if !full { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.producer.take() }?.resume()
        }
        let consumer = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.queue.append(element)
            return state.consumer.take()
        }
        consumer?.resume()
    }

    /// Ends the input, with the error it threw, if any.
    func finish(throwing error: (any Error)? = nil) {
        let consumer = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            state.failure = error
            return state.consumer.take()
        }
        consumer?.resume()
    }

    // MARK: The consumer

    /// The next element, or why there is none, without waiting.
    func take() -> Take {
        let (taken, producer) = state.withLock { state -> (Take, CheckedContinuation<Void, Never>?) in
            guard state.count > 0 else { return (state.finished ? .finished(state.failure) : .empty, nil) }
            let element = state.queue[state.head]
            state.head += 1
            if state.head == state.queue.count {
                state.queue.removeAll(keepingCapacity: true)
                state.head = 0
            } else if state.head >= capacity {
                state.queue.removeFirst(state.head)
                state.head = 0
            }
            let wake = state.count <= capacity / 2 ? state.producer.take() : nil
            return (.element(element), wake)
        }
        producer?.resume()
        return taken
    }

    /// Returns once ``take()`` would not answer `.empty`, or when the task is cancelled.
    func waitForInput() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waits = state.withLock { state -> Bool in
                    guard state.count == 0, !state.finished, !Task.isCancelled else { return false }
                    state.consumer = continuation
                    return true
                }
                if !waits { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.consumer.take() }?.resume()
        }
    }
}
