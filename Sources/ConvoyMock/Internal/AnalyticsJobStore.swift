/// The analytics jobs of one server. Lives on the event-loop thread (inside ``MockResponder``), so it needs no lock.
///
/// A job fixes its result list at submission. Its state is a function of time and polls: the first status poll
/// answers `QUEUED`; later polls answer `PENDING` until `delay` has passed since submission, then `FULFILLED`.
/// Results are served once `delay` has passed (whatever was polled). The first `failing` jobs submitted fail instead:
/// `QUEUED` on the first poll, `FAILED` on every later one, and never any results. A cursor is an opaque encoding of
/// the job id and an offset into the result list, so the same cursor always yields the same page (for the same page
/// size), and a client may resume from any cursor it saved.
///
/// Status dates are wall-clock milliseconds: a job completes `delay` after its submission (the date a `FULFILLED`,
/// `FAILED` or `EXPIRED` status reports as `completionDate`), and a fulfilled job's results expire `lifetime` after
/// that (its `expirationDate`). From then on its status answers `EXPIRED` (after the first poll's `QUEUED`, as always)
/// and its results are gone.
struct AnalyticsJobStore {
    /// Job states reported by the status endpoint.
    enum State: String {
        case queued = "QUEUED"
        case pending = "PENDING"
        case fulfilled = "FULFILLED"
        case failed = "FAILED"
        case expired = "EXPIRED"
    }

    /// Why a results request was refused.
    enum ResultsError: Error {
        case unknownJob
        case notFulfilled(State)
        case invalidCursor
        /// The job was fulfilled, and its results have expired since.
        case expired
    }

    /// The status dates of a job, in wall-clock milliseconds since the Unix epoch.
    struct Dates {
        var submission: Int64
        /// Set once the job is `FULFILLED`, `FAILED` or `EXPIRED`.
        var completion: Int64?
        /// Set once the job is `FULFILLED` or `EXPIRED`.
        var expiration: Int64?
    }

    private struct Job {
        /// Monotonic nanoseconds at submission.
        var submitted: UInt64
        /// Wall-clock milliseconds at submission.
        var submissionDate: Int64
        var polls = 0
        var conversationIDs: [String]
        /// One of the first `failing` jobs: it never fulfils.
        var fails: Bool
    }

    private var jobs: [String: Job] = [:]
    private var identifiers: SplitMix64
    private let delayNanoseconds: UInt64
    /// How long a fulfilled job's results are kept.
    private let lifetimeNanoseconds: UInt64
    /// How many of the jobs still to be submitted fail.
    private var failuresLeft: Int

    init(seed: UInt64, delay: Duration, failing: Int = 0, lifetime: Duration = .seconds(86_400)) {
        identifiers = SplitMix64(seed: seed ^ 0x9B05_688C_2B3E_6C1F)
        delayNanoseconds = UInt64(delay.clampedNanoseconds)
        lifetimeNanoseconds = UInt64(max(0, lifetime.clampedNanoseconds))
        failuresLeft = max(0, failing)
    }

    /// Registers a job over `conversationIDs`, submitted at monotonic instant `now`; returns its id. The job fails
    /// while fewer than `failing` jobs were submitted before it.
    mutating func submit(conversationIDs: [String], now: UInt64, submissionDate: Int64) -> String {
        var id = identifiers.uuidString()
        while jobs[id] != nil { id = identifiers.uuidString() }
        let fails = failuresLeft > 0
        if fails { failuresLeft -= 1 }
        jobs[id] = Job(
            submitted: now, submissionDate: submissionDate, conversationIDs: fails ? [] : conversationIDs, fails: fails)
        return id
    }

    /// The state of job `id` at `now` (counting this poll) and its dates; `nil` for an unknown job.
    mutating func poll(_ id: String, now: UInt64) -> (state: State, dates: Dates)? {
        guard var job = jobs[id] else { return nil }
        job.polls += 1
        jobs[id] = job
        let state: State
        if job.polls == 1 {
            state = .queued
        } else if job.fails {
            state = .failed
        } else {
            state = isExpired(job, now: now) ? .expired : isDone(job, now: now) ? .fulfilled : .pending
        }
        var dates = Dates(submission: job.submissionDate)
        if state != .queued && state != .pending {
            let completion = job.submissionDate + Int64(delayNanoseconds / 1_000_000)
            dates.completion = completion
            if state != .failed { dates.expiration = completion + Int64(lifetimeNanoseconds / 1_000_000) }
        }
        return (state, dates)
    }

    /// Up to `pageSize` ids of job `id` from `cursor` (the start when `nil`), and the cursor of the next page (`nil`
    /// on the last page).
    func page(
        _ id: String, cursor: String?, pageSize: Int, now: UInt64
    ) throws(ResultsError)
        -> (ids: ArraySlice<String>, next: String?)
    {
        guard let job = jobs[id] else { throw .unknownJob }
        guard !job.fails else { throw .notFulfilled(job.polls == 0 ? .queued : .failed) }
        guard isDone(job, now: now) else { throw .notFulfilled(job.polls == 0 ? .queued : .pending) }
        guard !isExpired(job, now: now) else { throw .expired }
        var offset = 0
        if let cursor {
            guard let decoded = Self.offset(of: cursor, job: id), decoded <= job.conversationIDs.count else {
                throw .invalidCursor
            }
            offset = decoded
        }
        let end = min(job.conversationIDs.count, offset + pageSize)
        let next = end < job.conversationIDs.count ? Self.cursor(job: id, offset: end) : nil
        return (job.conversationIDs[offset..<end], next)
    }

    /// The wall-clock submission date of job `id` in milliseconds; `nil` for an unknown job.
    func submissionDate(of id: String) -> Int64? {
        jobs[id]?.submissionDate
    }

    private func isDone(_ job: Job, now: UInt64) -> Bool {
        now &- job.submitted >= delayNanoseconds
    }

    private func isExpired(_ job: Job, now: UInt64) -> Bool {
        now &- job.submitted >= delayNanoseconds &+ lifetimeNanoseconds
    }

    // MARK: Cursors

    /// `base64url("JOB_ID:OFFSET")` without padding.
    static func cursor(job: String, offset: Int) -> String {
        Base64URL.encode(Array("\(job):\(offset)".utf8))
    }

    /// The offset encoded in `cursor`, if it is a cursor of `job`.
    static func offset(of cursor: String, job: String) -> Int? {
        guard let bytes = Base64URL.decode(cursor), let text = String(validating: bytes, as: UTF8.self),
            let colon = text.lastIndex(of: ":"), text[..<colon] == job,
            let offset = Int(text[text.index(after: colon)...]), offset >= 0
        else { return nil }
        return offset
    }
}
