import Convoy
import Foundation
import Glibc
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Runs one fetch the way both `convoy fetch` and `convoy demo` do: measure the files against the
/// manifest, open them (resuming), trap signals, draw progress, run the engine, append the run's
/// manifest line, print the summary.
struct FetchRunner {
    /// What the manifest says of a run beyond its figures.
    struct Custody: Sendable {
        /// The command line, secrets redacted.
        var command: [String]
        var oauthClientId: String?
        /// The input as the manifest describes it, given the run's summary (records read, complete).
        var input: @Sendable (FetchSummary) -> RunManifest.Input
    }

    static let version = "0.1.0"

    var configuration: FetchConfiguration
    var credentials: any CredentialProvider
    /// The output file, or `-` for standard output (the console's record stream).
    var outputPath: String
    var errorsPath: String
    var manifestPath: String
    var custody: Custody
    var console: Console
    var showProgress: Bool
    /// The input's lines when known before the run (an ids file): the id table is sized once from
    /// them, and progress shows a bar, a percentage and an ETA.
    var inputLines: Int? = nil
    /// Off a terminal, a plain progress line this often (nil: none), for `kubectl logs` and CI.
    var progressInterval: Duration? = .seconds(60)
    /// Read every byte of the output before the run to check it against the manifest, instead of
    /// going on from the last line's SHA-256 midstate (`--check-output`).
    var checksWholeOutput = false
    /// A checkpoint line this often while the run goes on (nil: none), so that a run killed before
    /// its last line still vouches for what it wrote up to its last checkpoint.
    var checkpointInterval: Duration? = .seconds(60)

    var streaming: Bool { outputPath == "-" }

    /// Runs to the end, or until SIGINT/SIGTERM. Returns the summary; throws fatal errors.
    func run<Input: AsyncSequence & Sendable>(ids: Input) async throws -> FetchSummary
    where Input.Element == IDReader.Element {
        try await run { _ in ids }
    }

    /// Runs with an input that sends requests of its own through the run's budget (interval discovery).
    func run<Input: AsyncSequence & Sendable>(
        input: @Sendable (BudgetedSender<ContinuousClock>) -> Input
    ) async throws -> FetchSummary where Input.Element == IDReader.Element {
        let startedAt = Date()
        for (path, mode) in try NDJSONFile.checkBeforeWriting(
            (streaming ? [] : [outputPath]) + [errorsPath, manifestPath])
        {
            console.error("convoy: \(path) could be read by other users (mode \(String(mode, radix: 8))): made 0600")
        }
        var recorder = ManifestRecorder(
            manifestPath: manifestPath, outputPath: streaming ? nil : outputPath, errorsPath: errorsPath)
        recorder.readsWholeOutput = checksWholeOutput
        try recorder.measureBefore()
        reportFound(recorder.found)
        let store =
            streaming
            ? try OutputStore(streamingTo: console.recordStream, errorsPath: errorsPath)
            : try OutputStore(outputPath: outputPath, errorsPath: errorsPath, expectedIDs: inputLines ?? 0)
        recorder.noteResume(store.resume)
        let errorsBefore = FailureTally.size(of: errorsPath)
        reportResume(store.resume)
        let shared = SharedRecorder(recorder)
        let transport = FirstFailureTransport(
            base: DefaultTransport(
                maxConnectionsPerHost: configuration.concurrency, limits: configuration.transportLimits)
        ) { [console] reason in
            console.error(
                "convoy: a request failed: \(reason) (an id that keeps failing goes to the errors file with its reason)"
            )
        }
        var configuration = configuration
        configuration.expectedIDs = inputLines
        let engine = FetchEngine(
            configuration: configuration, transport: transport, credentials: credentials, clock: ContinuousClock())
        let ids = input(engine.sender)
        let started = ContinuousClock.now
        let box = StoreBox(store)
        let work = Task { try await engine.run(ids: ids, store: box.store) }
        let trap = SignalTrap { _ in work.cancel() }
        defer { trap.cancel() }
        let job = SummaryReport.Job(
            total: inputLines, requestsPerID: configuration.requestsPerID, shards: configuration.shard?.count ?? 1)
        let progress = Task { [console, showProgress, progressInterval] in
            // A terminal gets a line redrawn four times a second; a log, a plain line each interval.
            guard showProgress, let interval = console.isTerminal ? .milliseconds(250) : progressInterval else {
                return
            }
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                let line = SummaryReport.progressLine(
                    engine.progress(), elapsed: (ContinuousClock.now - started).seconds, job: job,
                    width: console.isTerminal
                        ? ProgressLine.terminalColumns(environment: ProcessInfo.processInfo.environment) : .max)
                if console.isTerminal { console.progress(line) } else { console.error("convoy: progress " + line) }
            }
        }
        defer { progress.cancel() }
        // A long pause is said when it starts, whatever the progress setting: a silent run for
        // minutes looks hung.
        let pauses = Task { [console] in
            var announced = 0
            while !Task.isCancelled {
                if let pause = engine.limiter.snapshot().longPause, pause.number > announced {
                    announced = pause.number
                    console.error(SummaryReport.announce(pause))
                }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        defer { pauses.cancel() }
        let checkpoints = Task { [checkpointInterval, streaming] in
            guard let checkpointInterval, !streaming else { return }
            while !Task.isCancelled {
                try? await Task.sleep(for: checkpointInterval)
                if Task.isCancelled { break }
                let manifest = self.manifest(engine.progress(), outcome: .running, failure: nil, startedAt: startedAt)
                do {
                    try shared.recorder.withLock { try $0.checkpoint(manifest) }
                } catch {
                    console.error(
                        "convoy: warning: cannot write a checkpoint to \(manifestPath): \(ErrorText.describe(error))")
                }
            }
        }
        defer { checkpoints.cancel() }
        var summary: FetchSummary
        var failure: Error?
        do {
            // Cancelling the caller (an embedding program, a test's time limit) stops the run like Ctrl-C.
            summary = try await withTaskCancellationHandler {
                try await work.value
            } onCancel: {
                work.cancel()
            }
        } catch {
            failure = error
            summary = engine.progress()
            summary.interrupted = true
            summary.wallSeconds = (ContinuousClock.now - started).seconds
        }
        progress.cancel()
        pauses.cancel()
        checkpoints.cancel()
        await checkpoints.value  // no checkpoint is written beside the last line
        console.clearProgress()
        let written = try record(
            summary, failure: failure, startedAt: startedAt, recorder: shared.recorder.withLock { $0 }, store: store)
        console.error(
            SummaryReport.render(
                summary, outputPath: outputPath, errorsPath: errorsPath, total: inputLines,
                reasons: summary.failed > 0 ? FailureTally.reasons(in: errorsPath, from: errorsBefore) : []))
        console.error("  manifest  \(manifestPath)" + (written ? "" : " (not written)"))
        if let failure { throw failure }
        return summary
    }

    /// Appends the run's manifest line. Returns false when it could not be written and the run
    /// already failed (that error is the one to report); throws when only the manifest failed.
    private func record(
        _ summary: FetchSummary, failure: Error?, startedAt: Date, recorder: ManifestRecorder, store: OutputStore
    ) throws -> Bool {
        let outcome: RunManifest.Outcome
        switch failure {
        case nil: outcome = summary.interrupted ? .interrupted : .completed
        case let error as ConvoyError where error.isOutputClosed: outcome = .outputClosed
        default: outcome = .failed
        }
        let manifest = manifest(summary, outcome: outcome, failure: failure, startedAt: startedAt)
        do {
            try recorder.record(manifest, stream: store.output.streamTally?.fingerprint)
            return true
        } catch {
            console.error("convoy: error: cannot write the manifest \(manifestPath): \(ErrorText.describe(error))")
            if failure == nil { throw error }
            return false
        }
    }

    /// The run's account as of `summary`, before the recorder adds the files' figures.
    private func manifest(
        _ summary: FetchSummary, outcome: RunManifest.Outcome, failure: Error?, startedAt: Date
    ) -> RunManifest {
        var manifest = RunManifest(
            tool: "convoy \(Self.version)", command: custody.command.map(console.redacted),
            apiBase: Redaction.url(configuration.apiBase),
            oauthClientId: custody.oauthClientId, startedAt: RecordEncoder.timestamp(startedAt),
            endedAt: RecordEncoder.timestamp(Date()), outcome: outcome,
            message: failure.map { console.redacted(ErrorText.describe($0)) }, resumable: !streaming,
            shard: configuration.shard?.description, input: custody.input(summary), counts: RunManifest.Counts(summary),
            limit: summary.limiter.map(RunManifest.Limit.init))
        manifest.user = Self.operatorName
        manifest.host = Self.hostName
        return manifest
    }

    /// The user the process runs as: its password entry's name, else `USER`.
    static var operatorName: String? {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return ProcessInfo.processInfo.environment["USER"]
    }

    /// This machine's host name.
    static var hostName: String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return nil }
        return String(cString: buffer)
    }

    private func reportFound(_ found: RunManifest.Found) {
        if found.previousOutputIntact == false {
            console.error(
                "convoy: warning: \(outputPath) no longer begins with what the last run recorded in \(manifestPath): "
                    + "it was altered between runs (this run's manifest line says so)")
        }
        let uncovered = found.uncoveredOutputRecords + found.uncoveredErrorRecords
        if uncovered > 0, found.previousOutputRead != nil {
            console.error(
                "convoy: \(uncovered) records are not covered by the manifest: a run was killed before it "
                    + "could write its line (this run's line counts them)")
        }
    }

    private func reportResume(_ resume: OutputStore.Resume) {
        if resume.truncatedBytes > 0 {
            console.error("convoy: cut a torn last line (\(resume.truncatedBytes) bytes) left by an earlier crash")
        }
        if resume.done > 0 || !resume.failed.isEmpty {
            console.error(
                "convoy: resuming: \(resume.done) ids already in \(outputPath), \(resume.failed.count) "
                    + "permanent failures kept, \(resume.retrying) earlier failures to retry")
        }
    }
}

/// The run's recorder, shared by the checkpoint task and the last line.
private final class SharedRecorder: Sendable {
    let recorder: Mutex<ManifestRecorder>
    init(_ recorder: ManifestRecorder) { self.recorder = Mutex(recorder) }
}

/// Hands the store to the engine's task. The store is used by that task alone from here on.
private struct StoreBox: @unchecked Sendable {
    let store: OutputStore
    init(_ store: OutputStore) { self.store = store }
}
