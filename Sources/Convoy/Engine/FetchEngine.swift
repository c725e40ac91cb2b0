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
/// - 2xx with the document asked for (``AnswerCheck``: valid JSON of the part's shape, naming the
///   conversation): kept (compacted, verbatim); the conversation moves to its next part's request,
///   and when all are done its record goes to the output file;
/// - 404 on the first part and other permanent 4xx: written to the errors file, not retried;
///   a 404 on a later part means the part does not apply (`null` in the record);
/// - 429: retried once the limiter's pause (which holds back every sender) is over;
/// - 5xx, 408 and transport errors: retried after full-jitter backoff;
/// - a failure that would only repeat (a 2xx that is not the document asked for, a malformed or
///   oversized answer): retried once, on a fresh connection, then written to the errors file;
/// - a refused TLS certificate or handshake: the run stops, as no request to that server can pass;
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
        var loop = RunLoopState(resume: store.resume, batchSize: max(configuration.analyticsBatchSize, 1))
        let input = InputBuffer<IDReader.Element>(capacity: IDReader.bufferCapacity)
        if configuration.parts.contains(.analytics) {
            live.withLock { $0.analyticsBatchSize = loop.batchSize }
        }
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
                    if let batch = loop.nextBatch() {
                        spawn(batch, in: &group, loop: &loop)
                        continue
                    }
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
                            let batching = loop.batchSize > 1 && configuration.parts.contains(.analytics)
                            group.addTask { [clock] in
                                guard batching else {
                                    await input.waitForInput()
                                    return .inputReady
                                }
                                // A slow input must not hold a partial batch for long either.
                                let stalled = await Self.input(input, staysEmptyFor: Self.batchLinger, on: clock)
                                return stalled ? .inputStalled : .inputReady
                            }
                        }
                    }
                    break
                }
                // The input is done and nothing in flight could add to a partial batch: send it.
                if fatal == nil, !Task.isCancelled, loop.inputDone, loop.inFlight == 0, let batch = loop.partialBatch()
                {
                    spawn(batch, in: &group, loop: &loop)
                }
                if fatal != nil || Task.isCancelled { group.cancelAll() }
                if let left = requestsLeft() { limiter.expect(requests: left) }
                guard let result = await group.next() else { break }
                do {
                    try handle(result, in: &group, loop: &loop, store: store)
                } catch {
                    fatal = fatal ?? error
                }
            }
        }
        if fatal == nil, !Task.isCancelled {
            do {
                try writeHeldForbidden(&loop, store: store)
            } catch {
                fatal = error
            }
        }
        do {
            try store.sync()  // on every way out: done, Ctrl-C or a fatal error
        } catch {
            fatal = fatal ?? error
        }
        let summary = live.withLock { summary -> FetchSummary in
            summary.abandoned = loop.abandoned + loop.readyCount + loop.heldBack
            summary.interrupted = Task.isCancelled || fatal != nil
            summary.wallSeconds = (clock.now - started).seconds
            return summary
        }
        if let fatal { throw fatal }
        var final = summary
        final.limiter = limiter.snapshot()
        return final
    }

    /// The requests the run has yet to complete, estimated from ``FetchConfiguration/expectedIDs``:
    /// every id not yet read (its shard's share of them) and every conversation in progress (its
    /// requests in flight too), at ``FetchConfiguration/requestsPerID`` each. Nil when the input's
    /// size is unknown.
    private func requestsLeft() -> Int? {
        guard let expected = configuration.expectedIDs else { return nil }
        // Two counts under the lock, not a copy of the whole summary: this runs once per answer.
        let (read, settled) = live.withLock {
            ($0.inputRecords, $0.fetched + $0.failed + $0.invalid + $0.skipped + $0.duplicates + $0.otherShards)
        }
        let unread = Double(max(0, expected - read)) / Double(configuration.shard?.count ?? 1)
        let inProgress = Double(max(0, read - settled))
        return Int(((unread + inProgress) * configuration.requestsPerID).rounded(.up))
    }

    /// How long a partial analytics batch waits for more ids while the input is empty.
    static var batchLinger: Duration { .seconds(1) }

    /// Waits until `input` has something or ends (false), or `linger` passes first (true).
    private static func input(
        _ input: InputBuffer<IDReader.Element>, staysEmptyFor linger: Duration, on clock: C
    ) async -> Bool {
        await withTaskGroup(of: Bool.self) { race in
            race.addTask {
                await input.waitForInput()
                return false
            }
            race.addTask { (try? await clock.sleep(for: linger)) != nil }
            let first = await race.next() ?? false
            race.cancelAll()
            return first && !Task.isCancelled
        }
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

        /// The part whose permission the request needs.
        var part: ConversationPart {
            switch self {
            case .get(let part): part
            case .messageBodies: .messages
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
        /// True when its analytics go by the per-id endpoint: a batch of one that failed, or an id a
        /// batch did not list while the conversation's existence is in question (analytics first).
        var unbatched = false
    }

    /// Conversations whose analytics go in one request: one concurrency slot, however many ids.
    private struct Batch: Sendable {
        var works: [Work]
        /// Attempts at this set of ids; after two failed ones it is split in halves.
        var attempts = 0

        /// Attempts at the whole batch before it is split.
        var wholeAttempts: Int { 2 }

        /// The two halves, each a fresh batch (a batch of one becomes a per-id request instead).
        var halves: [Batch] {
            let middle = works.count / 2
            return [Batch(works: Array(works[..<middle])), Batch(works: Array(works[middle...]))]
        }
    }

    private enum Outcome: Sendable {
        case response(HTTPResponse, token: String?)
        case transportError(TransportFailure)
    }

    /// A transfer that failed, weighed for what trying again can do.
    private struct TransportFailure: Sendable {
        let reason: String
        /// The same request would most likely fail the same way (``SocketTransportError/repeats``).
        let repeats: Bool
        /// Set when no request to this server can succeed until the user acts: the run stops.
        let fatal: ConvoyError?

        init(_ error: Error, apiBase: URL) {
            reason = FetchEngine.describe(error)
            repeats = (error as? SocketTransportError)?.repeats ?? false
            fatal = FetchEngine.fatal(error, apiBase: apiBase)
        }
    }

    /// Attempts at a step whose failure would only repeat: the first, and one more.
    private static var repeatingAttempts: Int { 2 }

    private enum ChildResult: Sendable {
        /// The input was read to its end (or failed, or the run was cancelled).
        case inputRead
        /// The input has an element queued, or ended, after the loop found it empty.
        case inputReady
        /// The input stayed empty for ``batchLinger``: a partial batch goes rather than wait.
        case inputStalled
        /// A request got an answer or failed in transport.
        case attempted(Work, Outcome)
        /// A batch request got an answer or failed in transport.
        case batchAttempted(Batch, Outcome)
        /// A retry's wait is over.
        case waited(Work)
        case batchWaited(Batch)
        /// The API answered 401; `renewed` tells whether the credentials now hold a new token.
        case unauthorized(Work, renewed: Bool)
        case batchUnauthorized(Batch, renewed: Bool)
        /// The task was cancelled; `conversations` it carried, `inFlight` when it held a concurrency slot.
        case cancelled(conversations: Int, inFlight: Bool)
        /// No token could be had (wrong credentials, login server down): the run cannot go on.
        case failedToAuthenticate(conversations: Int, Error)
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
        /// Conversations whose next step is a batched analytics request, in arrival order.
        var analyticsQueue: [Work] = []
        /// Batches to send before anything else: retries whose wait is over, halves of failed ones.
        var readyBatches: [Batch] = []
        /// Ids a batch carries now: the configured size, or less once the server refused a full one.
        var batchSize: Int
        /// The most ids a batch has been answered for: a refusal of no more than that is about the ids.
        var largestAnswered = 0
        /// Parts with at least one answer that was not a 403: their 403s are about single conversations.
        var permitted: Set<ConversationPart> = []
        /// 403 failures of parts not yet permitted, held back (not written) until one is.
        var heldForbidden: [ConversationPart: [FetchFailure]] = [:]

        init(resume: OutputStore.Resume, batchSize: Int) {
            self.resume = resume
            self.batchSize = batchSize
        }

        var readyCount: Int { ready.count - readyHead }

        /// Conversations held back: in batches not yet sent, or with a 403 not yet written.
        var heldBack: Int {
            analyticsQueue.count + readyBatches.reduce(0) { $0 + $1.works.count }
                + heldForbidden.values.reduce(0) { $0 + $1.count }
        }

        /// A batch ready to go: a retry or half first, else a full batch from the queue.
        mutating func nextBatch() -> Batch? {
            if !readyBatches.isEmpty { return readyBatches.removeFirst() }
            guard analyticsQueue.count >= batchSize else { return nil }
            defer { analyticsQueue.removeFirst(batchSize) }
            return Batch(works: Array(analyticsQueue.prefix(batchSize)))
        }

        /// Whatever the queue holds, as one batch.
        mutating func partialBatch() -> Batch? {
            guard readyCount == 0, !analyticsQueue.isEmpty else { return nil }
            defer { analyticsQueue.removeAll(keepingCapacity: true) }
            return Batch(works: analyticsQueue)
        }

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
        if case .get(.analytics) = work.steps[0], !work.unbatched, loop.batchSize > 1 {
            loop.analyticsQueue.append(work)  // it holds no slot until its batch goes
            return
        }
        var work = work
        work.attempts += 1
        work.requests += 1
        loop.inFlight += 1
        live.withLock {
            $0.requests += 1
            if work.attempts > 1 { $0.retries += 1 }
        }
        let request = request(for: work)
        let apiBase = configuration.apiBase
        group.addTask { [sender] in
            do {
                let (response, token) = try await sender.send(request)
                return .attempted(work, .response(response, token: token))
            } catch BudgetedSender<C>.Failure.noToken(let error) {
                return .failedToAuthenticate(conversations: 1, error)
            } catch BudgetedSender<C>.Failure.transport(let error) {
                return .attempted(work, .transportError(TransportFailure(error, apiBase: apiBase)))
            } catch {
                return .cancelled(conversations: 1, inFlight: true)
            }
        }
    }

    /// Sends one batched analytics request; it holds one concurrency slot.
    private func spawn(_ batch: Batch, in group: inout TaskGroup<ChildResult>, loop: inout RunLoopState) {
        var batch = batch
        batch.attempts += 1
        for index in batch.works.indices { batch.works[index].requests += 1 }
        loop.inFlight += 1
        live.withLock {
            $0.requests += 1
            $0.analyticsBatches += 1
            if batch.attempts > 1 { $0.retries += 1 }
        }
        let request = HTTPRequest(
            url: URL(
                string: AnalyticsBatch.path(for: batch.works.map(\.id)),
                relativeTo: configuration.apiBase.appendingPathComponent("/"))!.absoluteURL,
            headers: ["Accept": "application/json", "User-Agent": configuration.userAgent])
        let count = batch.works.count
        let apiBase = configuration.apiBase
        group.addTask { [sender] in
            do {
                let (response, token) = try await sender.send(request)
                return .batchAttempted(batch, .response(response, token: token))
            } catch BudgetedSender<C>.Failure.noToken(let error) {
                return .failedToAuthenticate(conversations: count, error)
            } catch BudgetedSender<C>.Failure.transport(let error) {
                return .batchAttempted(batch, .transportError(TransportFailure(error, apiBase: apiBase)))
            } catch {
                return .cancelled(conversations: count, inFlight: true)
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
        try permit(step.part, loop: &loop, store: store)
        work.onFirstStep = false
        work.unbatched = false
        work.attempts = 0
        let null = Array("null".utf8)
        switch step {
        case .get(.messages):
            var ids: [String] = []
            if let answer {
                guard let found = ConversationPart.messageIDs(in: answer) else {
                    // Which bodies to ask for is unknown: an error with the reason, never `[]`.
                    try store.writeFailure(
                        FetchFailure(
                            id: work.id.description, status: source.status,
                            reason: "the messaging conversation names no message ids Convoy can read "
                                + "(participants[].messages[].messageId), so its message bodies cannot be fetched",
                            attempts: work.requests, retryable: true, part: step.name,
                            correlationID: source.correlationID))
                    live.withLock { $0.failed += 1 }
                    return
                }
                ids = found
            }
            work.parts.append(RecordPart(key: "messages", json: answer ?? null, sources: [source]))
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
        case .inputStalled:
            loop.awaitingInput = false
            if let batch = loop.partialBatch() { loop.readyBatches.append(batch) }
        case .cancelled(let conversations, let inFlight):
            if inFlight { loop.inFlight -= 1 }
            loop.abandoned += conversations
        case .waited(let work):
            loop.ready.append(work)
        case .batchWaited(let batch):
            loop.readyBatches.append(batch)
        case .failedToAuthenticate(let conversations, let error):
            loop.inFlight -= 1
            loop.abandoned += conversations
            throw error
        case .batchUnauthorized(let batch, let renewed):
            guard renewed, batch.attempts < configuration.maxAttempts else {
                loop.abandoned += batch.works.count
                throw ConvoyError.authentication("HTTP 401 Unauthorized: \(credentials.rejectionAdvice)")
            }
            loop.readyBatches.append(batch)
        case .batchAttempted(let batch, let outcome):
            loop.inFlight -= 1
            switch outcome {
            case .transportError(let failure):
                if let fatal = failure.fatal {
                    loop.abandoned += batch.works.count
                    throw fatal
                }
                if failure.repeats {
                    split(batch, orRetryAfter: nil, in: &group, loop: &loop)
                } else {
                    retry(batch, delay: backoff(forAttempt: batch.attempts), in: &group, loop: &loop)
                }
            case .response(let response, let token):
                try classify(response, token: token, batch: batch, in: &group, loop: &loop, store: store)
            }
        case .unauthorized(let work, let renewed):
            guard renewed, work.attempts < configuration.maxAttempts else {
                loop.abandoned += 1
                throw ConvoyError.authentication("HTTP 401 Unauthorized: \(credentials.rejectionAdvice)")
            }
            loop.ready.append(work)
        case .attempted(var work, let outcome):
            loop.inFlight -= 1
            switch outcome {
            case .transportError(let failure):
                work.lastAnswer = nil
                if let fatal = failure.fatal {
                    loop.abandoned += 1
                    throw fatal
                }
                try retryOrFail(
                    work, reason: failure.reason, delay: backoff(for: work),
                    attempts: failure.repeats ? Self.repeatingAttempts : configuration.maxAttempts, in: &group,
                    loop: &loop, store: store)
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
            let part: ConversationPart? = if case .get(let part) = work.steps[0] { part } else { nil }
            switch AnswerCheck.verdict(response.body, part: part, id: work.id, status: response.status) {
            case .document(let document):
                try advance(work, answer: document, source: Provenance(response), loop: &loop, store: store)
            case .rejected(let reason):
                try retryOrFail(
                    work, reason: reason, delay: .zero, attempts: Self.repeatingAttempts, in: &group, loop: &loop,
                    store: store)
            }
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
            let failure = FetchFailure(
                id: work.id.description, status: response.status, reason: reason, attempts: work.requests,
                retryable: false, part: work.onFirstStep ? nil : work.steps[0].name,
                correlationID: Provenance.correlationID(in: response.headers))
            let part = work.steps[0].part
            if response.status == 403, !loop.permitted.contains(part) {
                // Held back: written once the part proves permitted, or dropped when the run stops here.
                loop.heldForbidden[part, default: []].append(failure)
                if loop.heldForbidden[part]!.count >= configuration.forbiddenLimit {
                    throw Self.forbidden(part, answers: loop.heldForbidden[part]!.count)
                }
                return
            }
            try store.writeFailure(failure)
            live.withLock { $0.failed += 1 }
        }
    }

    /// Classifies a batch's answer: each listed conversation takes its document and moves on; the
    /// rest get `null` (or, while their existence is in question, a per-id request). A failure is
    /// retried whole, then split in halves, down to per-id requests, so one bad id cannot sink the
    /// others; a refusal of a full batch as too large halves the batch size for the run.
    private func classify(
        _ response: HTTPResponse, token: String?, batch: Batch, in group: inout TaskGroup<ChildResult>,
        loop: inout RunLoopState, store: OutputStore
    ) throws {
        let count = batch.works.count
        switch response.status {
        case 200..<300:
            guard let documents = AnalyticsBatch.split(response.body) else {
                split(batch, orRetryAfter: backoff(forAttempt: batch.attempts), in: &group, loop: &loop)
                return
            }
            loop.largestAnswered = max(loop.largestAnswered, count)
            let source = Provenance(response)
            for var work in batch.works {
                work.lastAnswer = source
                if let document = documents[work.id] {
                    try advance(work, answer: document, source: source, loop: &loop, store: store)
                } else if work.onFirstStep {
                    work.unbatched = true  // does the conversation exist? The per-id answer tells.
                    loop.ready.append(work)
                } else {
                    try advance(work, answer: nil, source: source, loop: &loop, store: store)
                }
            }
        case 429:
            live.withLock { $0.throttled += 1 }
            guard batch.attempts < configuration.maxAttempts else { return dissolve(batch, loop: &loop) }
            let observation = RateLimitObservation(headers: response.headers, status: 429)
            let reset = observation.remaining == 0 ? observation.resetAfter : nil
            let pause = observation.retryAfter ?? reset ?? .zero
            retry(batch, delay: min(pause, configuration.limiter.maximumPause), in: &group, loop: &loop)
        case 401:
            group.addTask { [credentials] in
                .batchUnauthorized(batch, renewed: await credentials.rejected(token))
            }
        case 403:
            // One conversation the client may not see, or no permission at all: the per-id answers
            // tell, and the first `forbiddenLimit` of them stop a run that lacks the permission.
            dissolve(batch, loop: &loop)
        case 404:
            // No batch endpoint on this server: per id for the rest of the run.
            cutBatchSize(to: 1, because: "HTTP 404 for \(count) ids", loop: &loop)
            dissolve(batch, loop: &loop)
        case 400 where count > 1, 413 where count > 1, 414 where count > 1:
            if count == loop.batchSize, count > loop.largestAnswered {
                cutBatchSize(
                    to: max(count / 2, loop.largestAnswered, 1), because: "HTTP \(response.status) for \(count) ids",
                    loop: &loop)
            }
            split(batch, orRetryAfter: nil, in: &group, loop: &loop)
        case 408, 500...599:
            split(batch, orRetryAfter: backoff(forAttempt: batch.attempts), in: &group, loop: &loop)
        default:
            split(batch, orRetryAfter: nil, in: &group, loop: &loop)
        }
    }

    /// Retries `batch` whole after `delay` while it has whole attempts left
    /// (never when `delay` is nil), else queues its halves; a batch of one becomes a per-id request.
    private func split(
        _ batch: Batch, orRetryAfter delay: Duration?, in group: inout TaskGroup<ChildResult>,
        loop: inout RunLoopState
    ) {
        if let delay, batch.attempts < batch.wholeAttempts {
            retry(batch, delay: delay, in: &group, loop: &loop)
        } else if batch.works.count == 1 {
            dissolve(batch, loop: &loop)
        } else {
            for half in batch.halves {
                if half.works.count == 1 { dissolve(half, loop: &loop) } else { loop.readyBatches.append(half) }
            }
        }
    }

    /// Sends the batch's conversations to the per-id endpoint, each with attempts of its own.
    private func dissolve(_ batch: Batch, loop: inout RunLoopState) {
        for var work in batch.works {
            work.unbatched = true
            work.attempts = 0
            loop.ready.append(work)
        }
    }

    private func retry(
        _ batch: Batch, delay: Duration, in group: inout TaskGroup<ChildResult>, loop: inout RunLoopState
    ) {
        guard delay > .zero else {
            loop.readyBatches.append(batch)
            return
        }
        group.addTask { [clock] in
            do {
                try await clock.sleep(for: delay)
                return .batchWaited(batch)
            } catch {
                return .cancelled(conversations: batch.works.count, inFlight: false)
            }
        }
    }

    /// Lowers the batch size for the rest of the run, and says why in the summary.
    private func cutBatchSize(to size: Int, because reason: String, loop: inout RunLoopState) {
        guard size < loop.batchSize else { return }
        loop.batchSize = size
        live.withLock {
            $0.analyticsBatchSize = size
            if $0.analyticsBatchRefusal == nil { $0.analyticsBatchRefusal = reason }
        }
        if size == 1 {
            for var work in loop.analyticsQueue {
                work.unbatched = true
                loop.ready.append(work)
            }
            loop.analyticsQueue.removeAll()
        }
    }

    /// Notes that `part` is permitted (an answer that was no 403), and writes the 403s held back for it.
    private func permit(_ part: ConversationPart, loop: inout RunLoopState, store: OutputStore) throws {
        guard loop.permitted.insert(part).inserted else { return }
        for failure in loop.heldForbidden.removeValue(forKey: part) ?? [] {
            try store.writeFailure(failure)
            live.withLock { $0.failed += 1 }
        }
    }

    /// At the end of a run, the 403s of parts that never proved permitted (fewer than
    /// ``FetchConfiguration/forbiddenLimit``: single conversations the client may not see).
    private func writeHeldForbidden(_ loop: inout RunLoopState, store: OutputStore) throws {
        for part in ConversationPart.allCases {
            for failure in loop.heldForbidden.removeValue(forKey: part) ?? [] {
                try store.writeFailure(failure)
                live.withLock { $0.failed += 1 }
            }
        }
    }

    /// The error that stops a run whose first `answers` requests for `part` were all refused.
    private static func forbidden(_ part: ConversationPart, answers: Int) -> ConvoyError {
        ConvoyError.authentication(
            "HTTP 403 Forbidden on the first \(answers) requests for the \(part.rawValue) part, and none allowed: "
                + "the OAuth client's "
                + "role lacks the permission \(part.permission). Add it to the role (or leave \(part.rawValue) out "
                + "of --include) and run again; nothing was recorded for these ids, so the re-run fetches them")
    }

    /// Retries `work` after `delay` while it has had fewer than `attempts` (by default the
    /// configured most) at its current step; else writes its failure, retryable by a later run.
    private func retryOrFail(
        _ work: Work, reason: String, delay: Duration, attempts: Int? = nil, in group: inout TaskGroup<ChildResult>,
        loop: inout RunLoopState, store: OutputStore
    ) throws {
        guard work.attempts < min(attempts ?? configuration.maxAttempts, configuration.maxAttempts) else {
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
                return .cancelled(conversations: 1, inFlight: false)
            }
        }
    }

    private func backoff(for work: Work) -> Duration { backoff(forAttempt: work.attempts) }

    private func backoff(forAttempt attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return configuration.backoff.delay(forRetry: attempt, using: &generator)
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

    /// The error that stops the run for a transport failure no retry can mend, or nil.
    private static func fatal(_ error: Error, apiBase: URL) -> ConvoyError? {
        let reason: String
        switch error {
        case SocketTransportError.tlsRefused(let detail):
            reason = detail
        case let error as URLError where Self.certificateFailures.contains(error.code):
            reason = error.localizedDescription
        default:
            return nil
        }
        return ConvoyError.tlsRefused(host: apiBase.host ?? "the API", reason: reason)
    }

    /// URLSession's codes for a certificate or handshake that will fail every time.
    private static var certificateFailures: Set<URLError.Code> {
        [
            .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateNotYetValid,
            .serverCertificateHasUnknownRoot, .clientCertificateRejected, .clientCertificateRequired,
            .secureConnectionFailed,
        ]
    }
}
