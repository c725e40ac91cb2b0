import Convoy
import Synchronization

/// A transport that says the first transport failure of a run as it happens, so a dead server is
/// not a silent run while the engine backs off and retries; later failures go to the errors file
/// as before.
final class FirstFailureTransport: HTTPTransport {
    let base: any HTTPTransport
    /// Called once, with the failure in words.
    let report: @Sendable (String) -> Void
    private let said = Atomic<Bool>(false)

    init(base: any HTTPTransport, report: @escaping @Sendable (String) -> Void) {
        self.base = base
        self.report = report
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        do {
            return try await base.send(request)
        } catch {
            if !(error is CancellationError), !Task.isCancelled,
                !said.compareExchange(expected: false, desired: true, ordering: .relaxed).original
            {
                report(ErrorText.describe(error))
            }
            throw error
        }
    }
}
