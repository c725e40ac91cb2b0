import Foundation

/// Finds the conversation ids of an interval with Genesys's analytics jobs API, and streams them
/// into the fetch while discovery goes on.
///
/// Flow: `POST /api/v2/analytics/conversations/details/jobs` with the interval (and filters) →
/// poll `GET …/jobs/{jobId}` with capped exponential backoff until `FULFILLED` → page
/// `GET …/jobs/{jobId}/results?cursor=…` until no cursor is returned. Every request goes through
/// the run's ``BudgetedSender``, so it draws on the same budget and token as the fetches.
///
/// Resume without fetching twice or losing an id: each page's ids are appended to a journal
/// (`<output>.discovered`, one id per line) *before* the checkpoint (`<output>.discovery.json`:
/// interval, filters, job id, next cursor) moves past that page. A re-run replays the journal
/// (the engine skips the ids already written) and continues from the checkpoint's cursor; a job
/// that expired meanwhile is submitted again and paged from the start, and the engine's duplicate
/// check drops what the journal already held.
public struct IntervalDiscovery<C: Clock>: AsyncSequence, Sendable where C.Duration == Duration {
    public typealias Element = IDReader.Element

    /// What to ask for.
    public struct Query: Sendable, Codable, Equatable {
        /// ISO-8601 `start/end`, e.g. `2026-01-01T00:00:00Z/2026-01-08T00:00:00Z`.
        public var interval: String
        /// `voice`, `message`, … (the analytics `mediaType` dimension), or nil for all.
        public var mediaType: String?
        /// A division id, or nil for all.
        public var divisionID: String?

        public init(interval: String, mediaType: String? = nil, divisionID: String? = nil) {
            self.interval = interval
            self.mediaType = mediaType
            self.divisionID = divisionID
        }

        /// Checks the interval's form: two ISO-8601 instants, start before end.
        public func validate() throws {
            let parts = interval.split(separator: "/")
            let formatter = ISO8601DateFormatter()
            let fractional = ISO8601DateFormatter()
            fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            func date(_ text: Substring) -> Date? {
                formatter.date(from: String(text)) ?? fractional.date(from: String(text))
            }
            guard parts.count == 2, let start = date(parts[0]), let end = date(parts[1]), start < end else {
                throw ConvoyError.usage(
                    "--interval takes START/END in ISO-8601 with start before end, e.g. "
                        + "2026-01-01T00:00:00Z/2026-01-08T00:00:00Z, not '\(interval)'")
            }
        }

        /// The job's JSON body.
        var body: Data {
            var predicates: [[String: String]] = []
            if let mediaType { predicates.append(["dimension": "mediaType", "value": mediaType]) }
            if let divisionID { predicates.append(["dimension": "divisionId", "value": divisionID]) }
            var object: [String: Any] = ["interval": interval]
            if !predicates.isEmpty {
                object["conversationFilters"] = [["type": "and", "predicates": predicates]]
            }
            return try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        }
    }

    /// The checkpoint file's contents.
    struct Checkpoint: Codable, Equatable {
        var query: Query
        var jobID: String?
        /// True once the job was seen FULFILLED, so pages are read without polling again.
        var fulfilled: Bool?
        var cursor: String?
        var finished: Bool
    }

    let query: Query
    let apiBase: URL
    let sender: BudgetedSender<C>
    let clock: C
    let journalPath: String
    let checkpointPath: String
    let pageSize: Int

    /// - Parameters:
    ///   - stateFile: where the run's output goes; the journal and checkpoint are named after it.
    public init(
        query: Query, apiBase: URL, sender: BudgetedSender<C>, clock: C, stateFile: String, pageSize: Int = 1000
    ) {
        self.query = query
        self.apiBase = apiBase
        self.sender = sender
        self.clock = clock
        self.journalPath = stateFile + ".discovered"
        self.checkpointPath = stateFile + ".discovery.json"
        self.pageSize = pageSize
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(discovery: self) }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let discovery: IntervalDiscovery
        var pending: [String] = []
        var line = 0
        var checkpoint: Checkpoint?
        var journal: NDJSONFile?

        init(discovery: IntervalDiscovery) {
            self.discovery = discovery
        }

        public mutating func next() async throws -> Element? {
            if checkpoint == nil { try start() }
            while pending.isEmpty {
                guard var current = checkpoint, !current.finished else { return nil }
                try await discovery.advance(&current, journal: journal!, into: &pending)
                checkpoint = current
                try discovery.save(current)
            }
            line += 1
            let text = pending.removeFirst()
            guard let id = ConversationID(text) else {
                return (line, .invalid(text, reason: "analytics job returned a conversationId that is not a UUID"))
            }
            return (line, .id(id))
        }

        /// Loads the checkpoint (when it is for the same query) and replays the journal.
        private mutating func start() throws {
            var loaded = Checkpoint(query: discovery.query, jobID: nil, cursor: nil, finished: false)
            if let data = FileManager.default.contents(atPath: discovery.checkpointPath),
                let saved = try? JSONDecoder().decode(Checkpoint.self, from: data), saved.query == discovery.query
            {
                loaded = saved
                try NDJSONFile.forEachLine(atPath: discovery.journalPath) { line in
                    pending.append(String(decoding: line, as: UTF8.self))
                }
            } else {
                try? FileManager.default.removeItem(atPath: discovery.journalPath)
            }
            journal = try NDJSONFile(path: discovery.journalPath)
            checkpoint = loaded
            try discovery.save(loaded)
        }
    }

    // MARK: - Steps

    /// One step of the job: submit, wait until fulfilled, or read one page into `ids`.
    func advance(_ checkpoint: inout Checkpoint, journal: NDJSONFile, into ids: inout [String]) async throws {
        guard let jobID = checkpoint.jobID else {
            let response = try await send("POST", "api/v2/analytics/conversations/details/jobs", body: query.body)
            guard let id = Self.object(response)?["jobId"] as? String else {
                throw ConvoyError.input("the analytics jobs API did not return a jobId (HTTP \(response.status))")
            }
            checkpoint.jobID = id
            checkpoint.fulfilled = false
            checkpoint.cursor = nil
            return
        }
        if checkpoint.fulfilled != true {
            try await waitUntilFulfilled(jobID, checkpoint: &checkpoint)
            guard checkpoint.jobID != nil else { return }  // expired: submitted again next step
            checkpoint.fulfilled = true
        }
        var path = "api/v2/analytics/conversations/details/jobs/\(jobID)/results?pageSize=\(pageSize)"
        if let cursor = checkpoint.cursor {
            path += "&cursor=" + (cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor)
        }
        let page = try await send("GET", path)
        if page.status == 404 {
            // The job is gone (expired while we were away): submit it again and page from the start.
            checkpoint.jobID = nil
            checkpoint.fulfilled = nil
            return
        }
        guard page.status == 200, let object = Self.object(page) else {
            throw ConvoyError.input("the analytics job's results page could not be read (HTTP \(page.status))")
        }
        let conversations = object["conversations"] as? [[String: Any]] ?? []
        let found = conversations.compactMap { $0["conversationId"] as? String }
        for id in found { try journal.append(Array(id.utf8)) }
        try journal.sync()
        ids.append(contentsOf: found)
        if let cursor = object["cursor"] as? String, !cursor.isEmpty {
            checkpoint.cursor = cursor
        } else {
            checkpoint.finished = true
        }
    }

    private func waitUntilFulfilled(_ jobID: String, checkpoint: inout Checkpoint) async throws {
        var delay = Duration.milliseconds(250)
        while true {
            let response = try await send("GET", "api/v2/analytics/conversations/details/jobs/\(jobID)")
            if response.status == 404 {
                checkpoint.jobID = nil  // gone: submit again
                return
            }
            let state = (Self.object(response)?["state"] as? String)?.uppercased() ?? ""
            switch state {
            case "FULFILLED":
                return
            case "FAILED", "CANCELLED":
                throw ConvoyError.input("the analytics job \(jobID) ended \(state)")
            case "EXPIRED":
                checkpoint.jobID = nil
                return
            default:
                try await clock.sleep(for: delay)
                delay = Swift.min(delay * 2, .seconds(30))
            }
        }
    }

    /// One request through the shared limiter, retried on 429 (after the limiter's pause), 5xx and
    /// network errors, up to 10 times.
    private func send(_ method: String, _ path: String, body: Data? = nil) async throws -> HTTPResponse {
        let url = URL(string: path, relativeTo: apiBase.appendingPathComponent("/"))!.absoluteURL
        var generator = SystemRandomNumberGenerator()
        let backoff = Backoff()
        var last = ""
        for attempt in 1...10 {
            let request = HTTPRequest(
                method: method, url: url, headers: ["Accept": "application/json", "Content-Type": "application/json"],
                body: body)
            let response: HTTPResponse
            let token: String?
            do {
                (response, token) = try await sender.send(request)
            } catch BudgetedSender<C>.Failure.noToken(let error) {
                throw error
            } catch BudgetedSender<C>.Failure.transport {
                last = "network error"
                try await clock.sleep(for: backoff.delay(forRetry: attempt, using: &generator))
                continue
            }
            switch response.status {
            case 200..<300, 404:
                return response
            case 401:
                guard await sender.credentials.rejected(token) else {
                    throw ConvoyError.authentication("HTTP 401 Unauthorized: \(sender.credentials.rejectionAdvice)")
                }
            case 429:
                last = "HTTP 429"  // the limiter holds everyone back until Retry-After
            case 408, 500...599:
                last = "HTTP \(response.status)"
                try await clock.sleep(for: backoff.delay(forRetry: attempt, using: &generator))
            default:
                throw ConvoyError.input(
                    "the analytics jobs API refused \(method) \(url.path) with HTTP \(response.status)"
                        + (Self.object(response)?["message"] as? String).map { ": \($0)" }.orEmpty)
            }
        }
        throw ConvoyError.input("the analytics jobs API kept failing (\(last)) on \(method) \(url.path)")
    }

    func save(_ checkpoint: Checkpoint) throws {
        let data = try JSONEncoder().encode(checkpoint)
        try AtomicFile.replace(path: checkpointPath, lines: [ArraySlice(data)])
    }

    private static func object(_ response: HTTPResponse) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: response.body) as? [String: Any]
    }
}

extension Optional where Wrapped == String {
    fileprivate var orEmpty: String { self ?? "" }
}
