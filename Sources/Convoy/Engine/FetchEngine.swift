import Foundation
import Synchronization

/// Fetches every ``ConversationPart`` of each id, at the server's rate limit, into an ``OutputStore``.
///
/// Data flow: ids stream in from an `AsyncSequence`, read ahead by a child task into an
/// ``InputBuffer`` (the loop never awaits the input: when it is empty, the loop waits on it and on
/// the answers together) → duplicates and ids an earlier run recorded are skipped (one probe of
/// the store's id table) → a task group keeps at most `concurrency` requests in flight → each request first
/// takes a permit from the one shared ``RateLimiter`` → the answer goes back to the limiter (so
/// every response's headers re-tune the budget) and is classified:
/// - 2xx with a valid JSON body: kept (compacted, verbatim); the conversation moves to its next
///   part's request, and when all are done its record goes to the output file;
/// - 404 on the first part and other permanent 4xx: written to the errors file, not retried;
///   a 404 on a later part means the part does not apply (`null` in the record);
/// - 429: retried once the limiter's pause (which holds back every sender) is over;
/// - 5xx, 408, transport errors and unparseable bodies: retried after full-jitter backoff;
/// - 401: the credential provider may renew the token once per rejection; otherwise the run stops.
///
/// A request that is waiting to retry holds no concurrency slot: its wait is a separate child
/// task, and it re-enters the queue (ahead of new ids) when the wait is over. An id that uses up
/// `maxAttempts` goes to the errors file with its last status and `retryable: true`.
///
/// Cancelling the calling task (SIGINT) stops new work, abandons requests in flight, syncs the
/// files and returns the summary with `interrupted` set; a re-run with the same files resumes.
public final class FetchEngine<C: Clock>: Sendable where C.Duration == Duration {
    public let configuration: FetchConfiguration
    public let limiter: RateLimiter<C>
    /// Token, permit, transfer: how every request of the run is sent.
    public let sender: BudgetedSender<C>
    private let credentials: any CredentialProvider
    private let clock: C
    private let live: Mutex<FetchSummary>

    public init(
        configuration: FetchConfiguration, transport: any HTTPTransport,
        credentials: any CredentialProvider = StaticCredentials(token: nil), clock: C
    ) {
        self.configuration = configuration
        self.credentials = credentials
        self.clock = clock
        self.limiter = RateLimiter(configuration: configuration.limiter, clock: clock)
        self.sender = BudgetedSender(limiter: limiter, transport: transport, credentials: credentials)
        self.live = Mutex(FetchSummary())
    }

    /// Counters of the run so far, for a progress line.
    public func progress() -> FetchSummary {
        var summary = live.withLock { $0 }
        summary.limiter = limiter.snapshot()
        return summary
    }

    /// Runs until every id is recorded, the task is cancelled, or a fatal error stops the run.
    /// - Parameters:
    ///   - ids: the input, line by line.
    ///   - store: where records go; also tells which ids an earlier run finished.
    /// - Returns: the summary. `interrupted` is set when the run was cancelled.
    /// - Throws: a ``ConvoyError`` that made further work pointless (401, disk full, unreadable
    ///   input); records written before it stay valid and a re-run resumes.
    public func run<Input: AsyncSequence & Sendable>(ids: Input, store: OutputStore) async throws -> FetchSummary
    where Input.Element == IDReader.Element {
        let started = clock.now
        var loop = RunLoopState(resume: store.resume)
        let input = InputBuffer<IDReader.Element>(capacity: IDReader.bufferCapacity)
        var fatal: Error?

        await withTaskGroup(of: ChildResult.self) { group in
            // The input is read ahead by a child of its own, so the loop never awaits it.
            group.addTask {
                do {
                    for try await element in ids {
                        await input.push(element)
                        if Task.isCancelled { break }
                    }
                    input.finish()
                } catch {
                    input.finish(throwing: error)
                }
                return .inputRead
            }
            while true {
                // Top up to `concurrency` requests in flight: retries first, then new input.
                while fatal == nil, !Task.isCancelled, loop.inFlight < configuration.concurrency {
                    if let work = loop.popReady() {
                        spawn(work, in: &group, loop: &loop)
                        continue
                    }
                    if loop.inputDone { break }
                    switch input.take() {
                    case .element(let (line, item)):
                        do {
                            if let work = try admit(item, line: line, loop: &loop, store: store) {
                                spawn(work, in: &group, loop: &loop)
                            }
                        } catch {
                            fatal = fatal ?? error
                        }
                        continue
                    case .finished(let error?):
                        loop.inputDone = true
                        // The input may see the cancellation first (e.g. discovery asleep).
                        if !Task.isCancelled { fatal = fatal ?? error }
                    case .finished(nil):
                        loop.inputDone = true
                        live.withLock { $0.inputComplete = true }
                    case .empty:
                        // Wait on the input and on the answers together.
                        if !loop.awaitingInput {
                            loop.awaitingInput = true
                            group.addTask {
                                await input.waitForInput()
                                return .inputReady
                            }
                        }
                    }
                    break
                }
                if fatal != nil || Task.isCancelled { group.cancelAll() }
                guard let result = await group.next() else { break }
                do {
                    try handle(result, in: &group, loop: &loop, store: store)
                } catch {
                    fatal = fatal ?? error
                }
            }
        }
        do {
            try store.sync()  // on every way out: done, Ctrl-C or a fatal error
        } catch {
            fatal = fatal ?? error
        }
        let summary = live.withLock { summary -> FetchSummary in
            summary.abandoned = loop.abandoned + loop.readyCount
            summary.interrupted = Task.isCancelled || fatal != nil
            summary.wallSeconds = (clock.now - started).seconds
            return summary
        }
        if let fatal { throw fatal }
        var final = summary
        final.limiter = limiter.snapshot()
        return final
    }

    // MARK: - Work

    /// One request of a conversation's plan.
    private enum Step: Sendable {
        case get(ConversationPart)
        /// `POST …/messages/bulk` with up to 1,000 message ids.
        case messageBodies([String])

        var name: String {
            switch self {
            case .get(let part): part.rawValue
            case .messageBodies: "messageBodies"
            }
        }
    }

    /// One conversation on its way through its steps.
    private struct Work: Sendable {
        let id: ConversationID
        /// Requests still to make; the first is the current one.
        var steps: [Step]
        /// True until the first step has succeeded: a 404 then means the conversation is missing.
        var onFirstStep = true
        /// Finished parts, in record order.
        var parts: [RecordPart] = []
        /// Bulk answers collected for `messageBodies`, and the answers they came in.
        var bodies: [[UInt8]] = []
        var bodySources: [Provenance] = []
        /// Attempts at the current step.
        var attempts = 0
        /// Requests made for this conversation, all steps.
        var requests = 0
        /// The last answer (nil after a transport error): its status and correlation id go into a failure.
        var lastAnswer: Provenance?
    }

    private enum Outcome: Sendable {
        case response(HTTPResponse, token: String?)
        case transportError(String)
    }

    private enum ChildResult: Sendable {
        /// The input was read to its end (or failed, or the run was cancelled).
        case inputRead
        /// The input has an element queued, or ended, after the loop found it empty.
        case inputReady
        /// A request got an answer or failed in transport.
        case attempted(Work, Outcome)
        /// A retry's wait is over.
        case waited(Work)
        /// The API answered 401; `renewed` tells whether the credentials now hold a new token.
        case unauthorized(Work, renewed: Bool)
        /// The task was cancelled; `inFlight` when it held a concurrency slot.
        case cancelled(Work, inFlight: Bool)
        /// No token could be had (wrong credentials, login server down): the run cannot go on.
        case failedToAuthenticate(Work, Error)
    }

    /// State owned by the run loop (never shared with child tasks).
    private struct RunLoopState {
        /// What the files held; its id table also flags every id the input has named.
        let resume: OutputStore.Resume
        var ready: [Work] = []
        var readyHead = 0
        var inFlight = 0
        var inputDone = false
        /// A child is waiting for the input (``InputBuffer/waitForInput()``).
        var awaitingInput = false
        var abandoned = 0

        init(resume: OutputStore.Resume) {
            self.resume = resume
        }

        var readyCount: Int { ready.count - readyHead }

        mutating func popReady() -> Work? {
            guard readyHead < ready.count else { return nil }
            defer {
                readyHead += 1
                if readyHead == ready.count {
                    ready.removeAll(keepingCapacity: true)
                    readyHead = 0
                }
            }
            return ready[readyHead]
        }
    }

    /// Turns an input line into work, or records why it is none.
    private func admit(_ item: InputLine, line: Int, loop: inout RunLoopState, store: OutputStore) throws -> Work? {
        switch item {
        case .skip:
            return nil
        case .invalid(let text, let reason):
            live.withLock { $0.inputRecords += 1 }
            guard !loop.resume.failed.contains(text) else {
                live.withLock { $0.skipped += 1 }
                return nil
            }
            try store.writeFailure(
                FetchFailure(id: text, status: nil, reason: reason, attempts: 0, retryable: false, inputLine: line))
            live.withLock {
                $0.failed += 1
                $0.invalid += 1
            }
            return nil
        case .id(let id):
            live.withLock { $0.inputRecords += 1 }
            if let shard = configuration.shard, !shard.contains(id) {
                live.withLock { $0.otherShards += 1 }
                return nil
            }
            switch loop.resume.ids.insertFlagging(id.key) {
            case .alreadyFlagged:
                live.withLock { $0.duplicates += 1 }
                return nil
            case .flagged:  // in the output already
                live.withLock { $0.skipped += 1 }
                return nil
            case .added:
                if !loop.resume.failed.isEmpty, loop.resume.failed.contains(id.description) {
                    live.withLock { $0.skipped += 1 }
                    return nil
                }
                return Work(id: id, steps: configuration.parts.map { .get($0) })
            }
        }
    }

    private func spawn(_ work: Work, in group: inout TaskGroup<ChildResult>, loop: inout RunLoopState) {
        var work = work
        work.attempts += 1
        work.requests += 1
        loop.inFlight += 1
        live.withLock {
            $0.requests += 1
            if work.attempts > 1 { $0.retries += 1 }
        }
        let request = request(for: work)
        group.addTask { [sender] in
            do {
                let (response, token) = try await sender.send(request)
                return .attempted(work, .response(response, token: token))
            } catch BudgetedSender<C>.Failure.noToken(let error) {
                return .failedToAuthenticate(work, error)
            } catch BudgetedSender<C>.Failure.transport(let error) {
                return .attempted(work, .transportError(Self.describe(error)))
            } catch {
                return .cancelled(work, inFlight: true)
            }
        }
    }

    private func request(for work: Work) -> HTTPRequest {
        let headers = ["Accept": "application/json", "User-Agent": configuration.userAgent]
        switch work.steps[0] {
        case .get(let part):
            return HTTPRequest(
                url: configuration.apiBase.appendingPathComponent(part.path(for: work.id)), headers: headers)
        case .messageBodies(let ids):
            let body = RecordEncoder.array(
                ids.map { id in
                    var string: [UInt8] = []
                    RecordEncoder.appendString(id, to: &string)
                    return string
                })
            var post = headers
            post["Content-Type"] = "application/json"
            return HTTPRequest(
                method: "POST",
                url: configuration.apiBase.appendingPathComponent(
                    "api/v2/conversations/messages/\(work.id)/messages/bulk"),
                headers: post, body: Data(body))
        }
    }

    /// Records the current step's answer (`nil` for a part that does not apply) and the answer it
    /// came in (`source`), and moves on: to the next step, or to the output file when the plan is done.
    private func advance(
        _ work: Work, answer: [UInt8]?, source: Provenance, loop: inout RunLoopState, store: OutputStore
    ) throws {
        var work = work
        let step = work.steps.removeFirst()
        work.onFirstStep = false
        work.attempts = 0
        let null = Array("null".utf8)
        switch step {
        case .get(.messages):
            work.parts.append(RecordPart(key: "messages", json: answer ?? null, sources: [source]))
            let ids = answer.map(ConversationPart.messageIDs) ?? []
            let size = ConversationPart.messageBatchSize
            let batches = stride(from: 0, to: ids.count, by: size).map {
                Step.messageBodies(Array(ids[$0..<min($0 + size, ids.count)]))
            }
            work.steps.insert(contentsOf: batches, at: 0)
            if batches.isEmpty {
                work.parts.append(
                    RecordPart(
                        key: "messageBodies", json: answer == nil ? null : Array("[]".utf8), sources: [],
                        isBatched: true))
            }
        case .get(let part):
            work.parts.append(RecordPart(key: part.rawValue, json: answer ?? null, sources: [source]))
        case .messageBodies:
            work.bodies.append(answer ?? null)
            work.bodySources.append(source)
            if case .messageBodies? = work.steps.first {
                break  // more batches to come
            }
            // All bulk answers collected: one array, each answer verbatim.
            work.parts.append(
                RecordPart(
                    key: "messageBodies", json: RecordEncoder.array(work.bodies), sources: work.bodySources,
                    isBatched: true))
            work.bodies = []
            work.bodySources = []
        }
        guard work.steps.isEmpty else {
            loop.ready.append(work)
            return
        }
        try store.writeSuccess(id: work.id, attempts: work.requests, parts: work.parts)
        live.withLock { $0.fetched += 1 }
    }

    private func handle(
        _ result: ChildResult, in group: inout TaskGroup<ChildResult>, loop: inout RunLoopState, store: OutputStore
    ) throws {
        switch result {
        case .inputRead:
            break
        case .inputReady:
            loop.awaitingInput = false
        case .cancelled(_, let inFlight):
            if inFlight { loop.inFlight -= 1 }
            loop.abandoned += 1
        case .waited(let work):
            loop.ready.append(work)
        case .failedToAuthenticate(_, let error):
            loop.inFlight -= 1
            loop.abandoned += 1
            throw error
        case .unauthorized(let work, let renewed):
            guard renewed, work.attempts < configuration.maxAttempts else {
                loop.abandoned += 1
                throw ConvoyError.authentication("HTTP 401 Unauthorized: \(credentials.rejectionAdvice)")
            }
            loop.ready.append(work)
        case .attempted(var work, let outcome):
            loop.inFlight -= 1
            switch outcome {
            case .transportError(let description):
                work.lastAnswer = nil
                try retryOrFail(
                    work, reason: description, delay: backoff(for: work), in: &group, loop: &loop, store: store)
            case .response(let response, let token):
                work.lastAnswer = Provenance(response)
                try classify(response, token: token, work: work, in: &group, loop: &loop, store: store)
            }
        }
    }

    private func classify(
        _ response: HTTPResponse, token: String?, work: Work, in group: inout TaskGroup<ChildResult>,
        loop: inout RunLoopState, store: OutputStore
    ) throws {
        switch response.status {
        case 200..<300:
            guard let document = JSONCompactor.compact(response.body) else {
                try retryOrFail(
                    work,
                    reason: "HTTP \(response.status) with a body that is not valid JSON (\(response.body.count) bytes)",
                    delay: backoff(for: work), in: &group, loop: &loop, store: store)
                return
            }
            try advance(work, answer: document, source: Provenance(response), loop: &loop, store: store)
        case 404 where !work.onFirstStep:
            // The conversation exists; this part does not apply to it.
            try advance(work, answer: nil, source: Provenance(response), loop: &loop, store: store)
        case 429:
            live.withLock { $0.throttled += 1 }
            // The limiter already paused every sender; wait out the same pause without holding a slot.
            // A 429 that names no wait (a leaky bucket's) goes straight back to the limiter's queue.
            let observation = RateLimitObservation(headers: response.headers, status: 429)
            let reset = observation.remaining == 0 ? observation.resetAfter : nil
            let pause = observation.retryAfter ?? reset ?? .zero
            try retryOrFail(
                work, reason: "rate limited (HTTP 429)", delay: min(pause, configuration.limiter.maximumPause),
                in: &group, loop: &loop, store: store)
        case 401:
            // Asked in a child task so a token refresh does not block the loop.
            group.addTask { [credentials] in
                .unauthorized(work, renewed: await credentials.rejected(token))
            }
        case 300..<400:
            // Redirects are not followed (they would carry the token away); every id would get the
            // same answer, so the run stops with the address to fix rather than failing them all.
            let location = response.headers["location"].map { " to \($0)" } ?? ""
            throw ConvoyError.configuration(
                "the API answered HTTP \(response.status)\(location); Convoy follows no redirect with credentials, "
                    + "so point --region or --api-base at the host that answers")
        case 408, 500...599:
            try retryOrFail(
                work, reason: "server error (HTTP \(response.status))\(Self.serverMessage(response.body))",
                delay: backoff(for: work), in: &group, loop: &loop, store: store)
        default:
            let reason =
                response.status == 404
                ? "not found (HTTP 404)" : "HTTP \(response.status)\(Self.serverMessage(response.body))"
            try store.writeFailure(
                FetchFailure(
                    id: work.id.description, status: response.status, reason: reason, attempts: work.requests,
                    retryable: false, part: work.onFirstStep ? nil : work.steps[0].name,
                    correlationID: Provenance.correlationID(in: response.headers)))
            live.withLock { $0.failed += 1 }
        }
    }

    private func retryOrFail(
        _ work: Work, reason: String, delay: Duration, in group: inout TaskGroup<ChildResult>,
        loop: inout RunLoopState, store: OutputStore
    ) throws {
        guard work.attempts < configuration.maxAttempts else {
            try store.writeFailure(
                FetchFailure(
                    id: work.id.description, status: work.lastAnswer?.status,
                    reason: "\(reason); gave up after \(work.attempts) attempts", attempts: work.requests,
                    retryable: true, part: work.onFirstStep ? nil : work.steps[0].name,
                    correlationID: work.lastAnswer?.correlationID))
            live.withLock { $0.failed += 1 }
            return
        }
        if delay <= .zero {
            loop.ready.append(work)
            return
        }
        group.addTask { [clock] in
            do {
                try await clock.sleep(for: delay)
                return .waited(work)
            } catch {
                return .cancelled(work, inFlight: false)
            }
        }
    }

    private func backoff(for work: Work) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return configuration.backoff.delay(forRetry: work.attempts, using: &generator)
    }

    /// `": <message>"` from a Genesys-style JSON error body, shortened; empty when there is none.
    private static func serverMessage(_ body: Data) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
            let message = object["message"] as? String, !message.isEmpty
        else { return "" }
        return ": " + String(message.prefix(200))
    }

    private static func describe(_ error: Error) -> String {
        let text = (error as? LocalizedError)?.errorDescription ?? "\(error)"
        return "transport error: " + String(text.prefix(200))
    }
}
