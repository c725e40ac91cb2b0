import Convoy
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Runs one fetch the way both `convoy fetch` and `convoy demo` do: open the files (resuming),
/// trap signals, draw progress, run the engine, print the summary.
struct FetchRunner {
    var configuration: FetchConfiguration
    var credentials: any CredentialProvider
    var outputPath: String
    var errorsPath: String
    var console: Console
    var showProgress: Bool

    /// Runs to the end, or until SIGINT/SIGTERM. Returns the summary; throws fatal errors.
    func run<Input: AsyncSequence & Sendable>(ids: Input) async throws -> FetchSummary
    where Input.Element == IDReader.Element {
        try await run { _ in ids }
    }

    /// Runs with an input that sends requests of its own through the run's budget (interval discovery).
    func run<Input: AsyncSequence & Sendable>(
        input: @Sendable (BudgetedSender<ContinuousClock>) -> Input
    ) async throws -> FetchSummary where Input.Element == IDReader.Element {
        let store = try OutputStore(outputPath: outputPath, errorsPath: errorsPath)
        let resume = store.resume
        if resume.truncatedBytes > 0 {
            console.error("convoy: cut a torn last line (\(resume.truncatedBytes) bytes) left by an earlier crash")
        }
        if !resume.done.isEmpty || !resume.failed.isEmpty {
            console.error(
                "convoy: resuming: \(resume.done.count) ids already in \(outputPath), \(resume.failed.count) "
                    + "permanent failures kept, \(resume.retrying) earlier failures to retry")
        }
        let transport = URLSessionTransport(maxConnectionsPerHost: configuration.concurrency)
        let engine = FetchEngine(
            configuration: configuration, transport: transport, credentials: credentials, clock: ContinuousClock())
        let ids = input(engine.sender)
        let started = ContinuousClock.now
        let box = StoreBox(store)
        let work = Task { try await engine.run(ids: ids, store: box.store) }
        let trap = SignalTrap { _ in work.cancel() }
        defer { trap.cancel() }
        let progress = Task { [console, showProgress] in
            guard showProgress, console.isTerminal else { return }
            while !Task.isCancelled {
                let elapsed = (ContinuousClock.now - started).seconds
                console.progress(SummaryReport.progressLine(engine.progress(), elapsed: elapsed))
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        defer { progress.cancel() }
        do {
            // Cancelling the caller (an embedding program, a test's time limit) stops the run like Ctrl-C.
            let summary = try await withTaskCancellationHandler {
                try await work.value
            } onCancel: {
                work.cancel()
            }
            progress.cancel()
            console.clearProgress()
            console.error(SummaryReport.render(summary, outputPath: outputPath, errorsPath: errorsPath))
            return summary
        } catch {
            progress.cancel()
            console.clearProgress()
            var partial = engine.progress()
            partial.interrupted = true
            partial.wallSeconds = (ContinuousClock.now - started).seconds
            console.error(SummaryReport.render(partial, outputPath: outputPath, errorsPath: errorsPath))
            throw error
        }
    }
}

/// Hands the store to the engine's task. The store is used by that task alone from here on.
private struct StoreBox: @unchecked Sendable {
    let store: OutputStore
    init(_ store: OutputStore) { self.store = store }
}
