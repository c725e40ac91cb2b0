import Foundation
import Synchronization

/// Finds the conversation ids of an interval with Genesys's analytics API, and streams them into
/// the fetch while discovery goes on. The answer is complete, or the run fails saying why.
///
/// Plan: `GET …/details/jobs/availability` gives the data lake's cut-off `T`. The interval
/// `[start, end)` becomes slices: `[start, min(T, end))` by the jobs API and `[max(T, start), end)`
/// by the synchronous query, which also serves data newer than the cut-off (a job would silently
/// miss it). Each slice is read in turn:
/// - **jobs**: `POST …/details/jobs` → poll `GET …/jobs/{id}` with capped exponential backoff
///   until `FULFILLED` → page `GET …/jobs/{id}/results?cursor=…`. A job that ends `FAILED` or
///   `CANCELLED` is submitted again after a bounded backoff; after ``jobAttempts`` such endings
///   the slice falls back to the query.
/// - **query**: `POST …/details/query` in pages of 100 (`orderBy conversationStart`, ascending).
///   Pagination stops at ``queryCap`` results (Genesys's 100,000), so a slice whose `totalHits`
///   passes it is split at a UTC midnight until each fits; the page that told is not used.
///
/// Which conversations an interval holds: those that *started* in `[start, end)`, however long
/// after `end` they ended; a conversation that started before `start` belongs to the interval
/// before. The API returns more, as its models document: a job "all conversations that had
/// activity during the interval" (so one that outlasts a slice comes back from the next), a query
/// "only conversations that started on a day touched by the interval" (so the whole UTC day on
/// either side). Each slice keeps the rows whose `conversationStart` lies in the slice itself: a
/// conversation is then handed on by exactly one slice, once, and none outside the interval is.
/// Both kinds left out are counted (``Coverage``). A slice of the query is split at a UTC midnight
/// where it spans several days, since the query cannot count less than a day.
///
/// Every request goes through the run's ``BudgetedSender``, so it draws on the same budget and
/// token as the fetches.
///
/// Resume without fetching twice or losing an id: each page's ids are appended to a journal
/// (`<output>.discovered`, one id per line, fsynced) *before* the checkpoint
/// (`<output>.discovery.json`: the query, the cut-off, and per slice its method, job id, cursor or
/// page) moves past that page. A re-run replays the journal (the engine skips the ids already
/// written) and goes on from the checkpoint; a job that expired meanwhile is submitted again and
/// paged from the start, and the engine's duplicate check drops what the journal already held.
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
            guard bounds != nil else {
                throw ConvoyError.usage(
                    "--interval takes START/END in ISO-8601 with start before end, e.g. "
                        + "2026-01-01T00:00:00Z/2026-01-08T00:00:00Z, not '\(interval)'")
            }
        }

        /// Start and end in milliseconds since the Unix epoch, when the interval is well formed.
        var bounds: (start: Int64, end: Int64)? {
            let parts = interval.split(separator: "/")
            guard parts.count == 2, let start = Timestamp.milliseconds(parts[0]),
                let end = Timestamp.milliseconds(parts[1]), start < end
            else { return nil }
            return (start, end)
        }

        /// The filters, in the form both the jobs and the query endpoint take.
        fileprivate var filters: [String: Any] {
            var predicates: [[String: String]] = []
            if let mediaType { predicates.append(["dimension": "mediaType", "value": mediaType]) }
            if let divisionID { predicates.append(["dimension": "divisionId", "value": divisionID]) }
            guard !predicates.isEmpty else { return [:] }
            return ["conversationFilters": [["type": "and", "predicates": predicates]]]
        }

        /// The job's JSON body over `slice` (the whole interval when it is the whole interval).
        func jobBody(_ slice: Slice) -> Data {
            var object = filters
            object["interval"] = slice.interval(whole: self)
            return try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        }

        /// The query's JSON body for page `page` of `slice`.
        func queryBody(_ slice: Slice, page: Int, pageSize: Int) -> Data {
            var object = filters
            object["interval"] = slice.interval(whole: self)
            object["order"] = "asc"
            object["orderBy"] = "conversationStart"
            object["paging"] = ["pageSize": pageSize, "pageNumber": page]
            return try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        }
    }

    /// A part of the interval and how it is read.
    struct Slice: Codable, Equatable {
        enum Method: String, Codable { case jobs, query }
        /// Milliseconds since the Unix epoch, half-open.
        var start: Int64
        var end: Int64
        var method: Method
        var jobID: String?
        /// True once the job was seen FULFILLED, so pages are read without polling again.
        var fulfilled: Bool?
        var cursor: String?
        /// The query's next page (1-based).
        var page = 1
        /// Jobs of this slice that ended FAILED or CANCELLED.
        var failedJobs = 0
        var finished = false
        /// Rows left out: a conversation that started in another slice of the interval (a job's
        /// activity, a query's whole day), or outside the interval altogether.
        var otherSlice: Int? = nil
        var outsideInterval: Int? = nil

        init(start: Int64, end: Int64, method: Method) {
            self.start = start
            self.end = end
            self.method = method
        }

        /// `START/END` for a request: the user's own text when the slice is the whole interval.
        func interval(whole query: Query) -> String {
            if let bounds = query.bounds, bounds == (start, end) { return query.interval }
            return Timestamp.text(start) + "/" + Timestamp.text(end)
        }
    }

    /// The checkpoint file's contents.
    struct Checkpoint: Codable, Equatable {
        var query: Query
        /// The availability cut-off, once read (milliseconds since the Unix epoch).
        var cutoff: Int64?
        /// In interval order; empty until the cut-off is read.
        var slices: [Slice] = []

        var finished: Bool { cutoff != nil && slices.allSatisfy(\.finished) }
    }

    /// How the interval was covered, for the summary and the manifest; filled in as discovery goes.
    public final class Coverage: Sendable {
        private let state = Mutex<[String]>([])

        public init() {}

        /// E.g. `jobs 2026-01-01T00:00:00.000Z/2026-06-20T00:00:00.000Z, query 2026-06-20T…/2026-07-01T…
        /// (availability cut-off 2026-06-20T00:00:00.000Z)`; empty before discovery has planned.
        public var description: String { state.withLock { $0.joined(separator: ", ") } }

        func update(_ checkpoint: Checkpoint) {
            guard let cutoff = checkpoint.cutoff else { return }
            var parts: [String] = []
            for slice in checkpoint.slices {
                // Adjacent slices read the same way read as one.
                if let last = parts.last, last.hasPrefix(slice.method.rawValue + " "),
                    last.hasSuffix(Timestamp.text(slice.start))
                {
                    parts[parts.count - 1] =
                        String(last.dropLast(Timestamp.text(slice.start).count))
                        + Timestamp.text(slice.end)
                } else {
                    parts.append("\(slice.method.rawValue) \(Timestamp.text(slice.start))/\(Timestamp.text(slice.end))")
                }
            }
            let splits = checkpoint.slices.filter { $0.method == .query }.count
            var text = parts
            if splits > 1 { text.append("the query in \(splits) slices under its pagination cap") }
            let otherSlice = checkpoint.slices.reduce(0) { $0 + ($1.otherSlice ?? 0) }
            let outside = checkpoint.slices.reduce(0) { $0 + ($1.outsideInterval ?? 0) }
            if otherSlice > 0 { text.append("\(otherSlice) rows of a conversation another slice returned") }
            if outside > 0 { text.append("\(outside) rows of conversations that started outside the interval") }
            text.append("availability cut-off \(Timestamp.text(cutoff))")
            state.withLock { $0 = text }
        }
    }

    let query: Query
    let apiBase: URL
    let sender: BudgetedSender<C>
    let clock: C
    let journalPath: String
    let checkpointPath: String
    let pageSize: Int
    /// Results the query pages through at most (Genesys: 100,000).
    let queryCap: Int
    /// Jobs of one slice that may end FAILED or CANCELLED before it falls back to the query.
    let jobAttempts: Int
    let coverage: Coverage?

    /// Page size of the synchronous query (its maximum).
    static var queryPageSize: Int { 100 }

    /// - Parameters:
    ///   - stateFile: where the run's output goes; the journal and checkpoint are named after it.
    ///   - pageSize: ids per page of job results.
    ///   - queryCap: results the query pages through at most; a slice with more is split.
    ///   - coverage: told how the interval is covered as the plan is made and changes.
    public init(
        query: Query, apiBase: URL, sender: BudgetedSender<C>, clock: C, stateFile: String, pageSize: Int = 1000,
        queryCap: Int = 100_000, jobAttempts: Int = 3, coverage: Coverage? = nil
    ) {
        self.query = query
        self.apiBase = apiBase
        self.sender = sender
        self.clock = clock
        self.journalPath = stateFile + ".discovered"
        self.checkpointPath = stateFile + ".discovery.json"
        self.pageSize = pageSize
        self.queryCap = Swift.max(queryCap, Self.queryPageSize)
        self.jobAttempts = Swift.max(jobAttempts, 1)
        self.coverage = coverage
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
            var loaded = Checkpoint(query: discovery.query)
            if let data = FileManager.default.contents(atPath: discovery.checkpointPath),
                let saved = try? JSONDecoder().decode(Checkpoint.self, from: data), saved.query == discovery.query
            {
                loaded = saved
                try NDJSONFile.forEachLine(atPath: discovery.journalPath) { line in
                    pending.append(String(decoding: line, as: UTF8.self))
                }
            } else {
                // Another query, or no checkpoint this version reads: discovery starts over (the
                // engine still skips every id the output holds).
                try? FileManager.default.removeItem(atPath: discovery.journalPath)
            }
            journal = try NDJSONFile(path: discovery.journalPath)
            checkpoint = loaded
            discovery.coverage?.update(loaded)
            try discovery.save(loaded)
        }
    }

    // MARK: - Steps

    /// One step: read the cut-off and plan, or one step of the first unfinished slice (submit, wait
    /// until fulfilled, read a page into `ids`, split).
    func advance(_ checkpoint: inout Checkpoint, journal: NDJSONFile, into ids: inout [String]) async throws {
        guard checkpoint.cutoff != nil else {
            try await plan(&checkpoint)
            coverage?.update(checkpoint)
            return
        }
        guard let index = checkpoint.slices.firstIndex(where: { !$0.finished }) else { return }
        switch checkpoint.slices[index].method {
        case .jobs:
            try await advanceJob(&checkpoint.slices[index], journal: journal, into: &ids)
        case .query:
            try await advanceQuery(&checkpoint.slices, at: index, journal: journal, into: &ids)
        }
        coverage?.update(checkpoint)
    }

    /// Reads the availability cut-off and splits the interval at it.
    private func plan(_ checkpoint: inout Checkpoint) async throws {
        guard let (start, end) = query.bounds else { return try query.validate() }
        let response = try await send("GET", "api/v2/analytics/conversations/details/jobs/availability")
        guard response.status == 200, let text = Self.object(response)?["dataAvailabilityDate"] as? String,
            let cutoff = Timestamp.milliseconds(Substring(text))
        else {
            throw ConvoyError.input(
                "the analytics API did not tell its data availability date (HTTP \(response.status)), so "
                    + "Convoy cannot know which part of the interval the jobs API covers")
        }
        var slices: [Slice] = []
        if cutoff > start { slices.append(Slice(start: start, end: Swift.min(cutoff, end), method: .jobs)) }
        if cutoff < end { slices.append(Slice(start: Swift.max(cutoff, start), end: end, method: .query)) }
        checkpoint.cutoff = cutoff
        checkpoint.slices = slices
    }

    /// Submit, wait until fulfilled, or read one page of the slice's job.
    private func advanceJob(_ slice: inout Slice, journal: NDJSONFile, into ids: inout [String]) async throws {
        guard let jobID = slice.jobID else {
            let response = try await send(
                "POST", "api/v2/analytics/conversations/details/jobs", body: query.jobBody(slice))
            guard let id = Self.object(response)?["jobId"] as? String else {
                throw ConvoyError.input("the analytics jobs API did not return a jobId (HTTP \(response.status))")
            }
            slice.jobID = id
            slice.fulfilled = false
            slice.cursor = nil
            return
        }
        if slice.fulfilled != true {
            switch try await waitUntilDone(jobID) {
            case .fulfilled:
                slice.fulfilled = true
            case .gone:
                slice.jobID = nil  // submitted again next step
                slice.fulfilled = nil
                return
            case .failed:
                slice.jobID = nil
                slice.fulfilled = nil
                slice.failedJobs += 1
                if slice.failedJobs >= jobAttempts {
                    slice.method = .query  // the jobs API cannot serve it: page the query instead
                    slice.page = 1
                } else {
                    try await clock.sleep(for: Self.resubmitDelay(after: slice.failedJobs))
                }
                return
            }
        }
        var path = "api/v2/analytics/conversations/details/jobs/\(jobID)/results?pageSize=\(pageSize)"
        if let cursor = slice.cursor {
            path += "&cursor=" + (cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor)
        }
        let page = try await send("GET", path)
        if page.status == 404 {
            // The job is gone (expired while we were away): submit it again and page from the start.
            slice.jobID = nil
            slice.fulfilled = nil
            return
        }
        guard page.status == 200, let object = Self.object(page) else {
            throw ConvoyError.input("the analytics job's results page could not be read (HTTP \(page.status))")
        }
        try record(object, of: &slice, journal: journal, into: &ids)
        if let cursor = object["cursor"] as? String, !cursor.isEmpty {
            slice.cursor = cursor
        } else {
            slice.finished = true
        }
    }

    /// Reads one page of the slice's query, or splits the slice when its hits pass the cap.
    private func advanceQuery(
        _ slices: inout [Slice], at index: Int, journal: NDJSONFile, into ids: inout [String]
    ) async throws {
        let slice = slices[index]
        let size = Self.queryPageSize
        let response = try await send(
            "POST", "api/v2/analytics/conversations/details/query",
            body: query.queryBody(slice, page: slice.page, pageSize: size))
        guard response.status == 200, let object = Self.object(response),
            let hits = (object["totalHits"] as? NSNumber)?.intValue
        else {
            throw ConvoyError.input("the analytics query's page could not be read (HTTP \(response.status))")
        }
        if hits > queryCap {
            // Past the pagination cap: read each half on its own (this page is not used).
            guard let middle = Self.splitPoint(slice) else {
                throw ConvoyError.input(
                    "the analytics query finds \(hits) conversations on the UTC day of \(Timestamp.text(slice.start)), "
                        + "more than its pagination cap of \(queryCap), and a query cannot count less than a day: "
                        + "that day needs the jobs API (its data availability cut-off is still before it)")
            }
            slices.replaceSubrange(
                index...index,
                with: [
                    Slice(start: slice.start, end: middle, method: .query),
                    Slice(start: middle, end: slice.end, method: .query),
                ])
            return
        }
        let count = try record(object, of: &slices[index], journal: journal, into: &ids)
        if count == 0 || slice.page * size >= hits {
            slices[index].finished = true
        } else {
            slices[index].page += 1
        }
    }

    /// Where a query slice is halved: the UTC midnight inside it nearest its middle. Nil for a
    /// slice within one UTC day, which no split can make the query count less of.
    static func splitPoint(_ slice: Slice) -> Int64? {
        let day: Int64 = 86_400_000
        let middle = slice.start + (slice.end - slice.start) / 2
        let below = (middle >= 0 ? middle / day : (middle - day + 1) / day) * day
        return [below, below + day].filter { $0 > slice.start && $0 < slice.end }
            .min { abs($0 - middle) < abs($1 - middle) }
    }

    /// Journals the ids of a page's conversations that started in `slice` (fsynced) and hands them
    /// on, counting the rest; returns how many rows the page held.
    @discardableResult
    private func record(
        _ page: [String: Any], of slice: inout Slice, journal: NDJSONFile, into ids: inout [String]
    ) throws -> Int {
        let conversations = page["conversations"] as? [[String: Any]] ?? []
        var found: [String] = []
        for row in conversations {
            guard let id = row["conversationId"] as? String else { continue }
            // A row without a readable start cannot be placed: it is kept, as the API returned it.
            if let text = row["conversationStart"] as? String, let start = Timestamp.milliseconds(Substring(text)) {
                if start < slice.start || start >= slice.end {
                    if let bounds = query.bounds, start >= bounds.start, start < bounds.end {
                        slice.otherSlice = (slice.otherSlice ?? 0) + 1
                    } else {
                        slice.outsideInterval = (slice.outsideInterval ?? 0) + 1
                    }
                    continue
                }
            }
            found.append(id)
        }
        for id in found { try journal.append(Array(id.utf8)) }
        try journal.sync()
        ids.append(contentsOf: found)
        return conversations.count
    }

    /// How a job ended.
    private enum JobEnd {
        case fulfilled
        /// Unknown to the server (404) or EXPIRED: submit it again.
        case gone
        /// FAILED or CANCELLED.
        case failed(String)
    }

    private func waitUntilDone(_ jobID: String) async throws -> JobEnd {
        var delay = Duration.milliseconds(250)
        while true {
            let response = try await send("GET", "api/v2/analytics/conversations/details/jobs/\(jobID)")
            if response.status == 404 { return .gone }
            let state = (Self.object(response)?["state"] as? String)?.uppercased() ?? ""
            switch state {
            case "FULFILLED": return .fulfilled
            case "FAILED", "CANCELLED": return .failed(state)
            case "EXPIRED": return .gone
            default:
                try await clock.sleep(for: delay)
                delay = Swift.min(delay * 2, .seconds(30))
            }
        }
    }

    /// The wait before a slice's job is submitted again after its `failures`th failed one:
    /// 2 s, 4 s, 8 s, … at most 60 s.
    static func resubmitDelay(after failures: Int) -> Duration {
        .seconds(Swift.min(60, 1 << Swift.min(Swift.max(failures, 1), 6)))
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
