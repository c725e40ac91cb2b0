import Dispatch
import Foundation
import Synchronization

/// A value computed on a thread of its own, so that slow work (hashing a large input for the
/// manifest) overlaps the run instead of delaying it; ``value`` waits for it.
final class BackgroundValue<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, any Error>?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    init(name: String, _ body: @escaping @Sendable () throws -> Value) {
        let thread = Thread { [self] in
            let outcome = Result { try body() }
            self.result.withLock { $0 = outcome }
            self.finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// The value, once computed (this blocks the caller until then); rethrows what the work threw.
    var value: Value {
        get throws {
            finished.wait()
            finished.signal()  // for the next reader
            return try result.withLock { $0! }.get()
        }
    }
}
