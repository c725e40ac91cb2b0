import Dispatch
import Foundation
import Glibc

/// Turns SIGINT and SIGTERM into task cancellation, so Ctrl-C stops a run cleanly: in-flight
/// requests are abandoned, files are synced, the summary is printed. A second signal exits at once
/// (status 130); the files are still consistent because every record is one `write(2)`.
final class SignalTrap {
    private let sources: [any DispatchSourceSignal]

    /// Starts trapping; `onSignal` runs (on a background queue) at the first signal.
    init(onSignal: @escaping @Sendable (Int32) -> Void) {
        let queue = DispatchQueue(label: "convoy.signals")
        let count = Counter()
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                if count.increment() > 1 { _exit(130) }
                onSignal(number)
            }
            source.resume()
            return source
        }
    }

    /// Stops trapping and restores the default handlers.
    func cancel() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }

    /// Only touched on the signal queue, which is serial.
    private final class Counter: @unchecked Sendable {
        private var value = 0
        func increment() -> Int {
            value += 1
            return value
        }
    }
}
