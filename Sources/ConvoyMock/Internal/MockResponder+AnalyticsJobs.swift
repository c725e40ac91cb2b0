import Foundation

/// Asynchronous analytics jobs: data availability, submit, poll, page through results.
extension MockResponder {
    /// Page size of job results when none is asked for.
    static let defaultJobPageSize = 100
    /// Largest page size of job results.
    static let maximumJobPageSize = 1000

    /// The cut-off of ``MockServerConfiguration/analyticsAvailability`` in milliseconds since the Unix epoch; `nil`
    /// when everything is available.
    var availabilityCutOff: Int64? {
        configuration.analyticsAvailability.map(MockConversationStore.milliseconds)
    }

    /// `GET /api/v2/analytics/conversations/details/jobs/availability` → `{"dataAvailabilityDate":"…"}` (Genesys's
    /// `DataAvailabilityResponse`): the configured cut-off, or the current wall-clock time when there is none.
    func jobsAvailability() -> Reply {
        Reply(
            status: 200,
            body: JSONValue.object([
                ("dataAvailabilityDate", .string(ConversationDocumentBuilder.timestamp(availabilityDate)))
            ]).compactBytes())
    }

    /// The data-lake cut-off in milliseconds: the configured one, or the current wall-clock time.
    var availabilityDate: Int64 {
        availabilityCutOff ?? Int64((MonotonicClock.wallClockSeconds() * 1000).rounded(.down))
    }

    /// `POST /api/v2/analytics/conversations/details/jobs` with `{"interval":"START/END", "segmentFilters"?,
    /// "conversationFilters"?}` (see ``AnalyticsJobFilter``) → `202 {"jobId":"…"}`. The job finds, as Genesys's
    /// model documents a job's interval, "all conversations that had activity during the interval": the universe's
    /// conversations that started before `END` (and before the availability cut-off) and ended after `START`, that
    /// exist and pass the filters, fixed at submission. One that outlasts a slice comes back from the next one too. A body that is not a JSON object, a missing or malformed interval, an empty interval or
    /// an unsupported filter → `400`.
    mutating func submitJob(body: [UInt8], now: UInt64) throws(EndpointError) -> Reply {
        let (_, interval, filter) = try Self.analyticsRequest(body)
        let ids = conversationUniverse().conversations(
            in: ConversationUniverse.available(interval, before: availabilityCutOff), selection: .activity,
            missingPerMille: configuration.missingPerMille, where: filter.matches)
        let submitted = Int64((MonotonicClock.wallClockSeconds() * 1000).rounded(.down))
        let jobID = jobs.submit(conversationIDs: ids, now: now, submissionDate: submitted)
        return Reply(status: 202, body: JSONValue.object([("jobId", .string(jobID))]).compactBytes())
    }

    /// The body of a job or query request: the decoded object, its interval (milliseconds, half-open, not empty) and
    /// its filters. A body that is not a JSON object, a missing or malformed interval, an empty interval or an
    /// unsupported filter → `400`.
    static func analyticsRequest(
        _ body: [UInt8]
    ) throws(EndpointError) -> (object: [String: Any], interval: Range<Int64>, filter: AnalyticsJobFilter) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw .badRequest("The request body must be a JSON object")
        }
        guard let interval = object["interval"] as? String else { throw .badRequest("interval is required") }
        let bounds = interval.split(separator: "/", omittingEmptySubsequences: false)
        guard bounds.count == 2, let start = ISOTimestamp.milliseconds(bounds[0]),
            let end = ISOTimestamp.milliseconds(bounds[1])
        else { throw .badRequest("interval '\(interval)' is not START/END in ISO-8601") }
        guard start < end else { throw .badRequest("interval '\(interval)' is empty") }
        do throws(AnalyticsJobFilter.Invalid) {
            return (object, start..<end, try AnalyticsJobFilter(body: object))
        } catch {
            throw .badRequest(error.message)
        }
    }

    /// The conversation universe, built on first use.
    mutating func conversationUniverse() -> ConversationUniverse {
        if let universe { return universe }
        let built = ConversationUniverse(size: configuration.universeSize)
        universe = built
        return built
    }

    /// `GET /api/v2/analytics/conversations/details/jobs/{jobId}` → Genesys's `AsyncQueryStatus`:
    /// `{"state":…,"submissionDate":…}`, with `completionDate` once the job is `FULFILLED`, `FAILED` or `EXPIRED`, an
    /// `errorMessage` when it failed and an `expirationDate` when it was fulfilled
    /// (``MockServerConfiguration/jobResultLifetime`` after completion); `404` for an unknown job.
    mutating func jobStatus(_ segment: Substring, now: UInt64) throws(EndpointError) -> Reply {
        guard let polled = jobs.poll(segment.lowercased(), now: now) else {
            throw .notFound("Unable to find an analytics job with ID '\(segment)'")
        }
        var members: [(key: String, value: JSONValue)] = [("state", .string(polled.state.rawValue))]
        if polled.state == .failed {
            members.append(("errorMessage", "The analytics job failed while it was being processed"))
        }
        if let expiration = polled.dates.expiration {
            members.append(("expirationDate", .string(ConversationDocumentBuilder.timestamp(expiration))))
        }
        members.append(("submissionDate", .string(ConversationDocumentBuilder.timestamp(polled.dates.submission))))
        if let completion = polled.dates.completion {
            members.append(("completionDate", .string(ConversationDocumentBuilder.timestamp(completion))))
        }
        return Reply(status: 200, body: JSONValue.object(members).compactBytes())
    }

    /// `GET /api/v2/analytics/conversations/details/jobs/{jobId}/results[?cursor=C][&pageSize=N]` →
    /// `{"conversations":[…],"cursor":"…","dataAvailabilityDate":"…"}` (Genesys's
    /// `AnalyticsConversationAsyncQueryResponse`, each entry a ``AnalyticsDocumentBuilder/jobEntry(_:)``), without
    /// `cursor` on the last page. `dataAvailabilityDate` is the cut-off the job ran against: the configured one, or
    /// (with none) the job's submission, so every page of a job answers the same bytes for the same cursor. `N`
    /// defaults to ``defaultJobPageSize`` and must be in `1...maximumJobPageSize`. `404` for an unknown job and once
    /// its results have expired; `400` before the job is fulfilled, for a failed job (whose results never come), for a
    /// bad page size or for a cursor this job did not hand out.
    func jobResults(_ segment: Substring, target: String, now: UInt64) throws(EndpointError) -> Reply {
        let parameters = QueryString.parameters(ofTarget: target)
        var pageSize = Self.defaultJobPageSize
        if let text = QueryString.value("pageSize", in: parameters) {
            guard let size = Int(text), (1...Self.maximumJobPageSize).contains(size) else {
                throw .badRequest("pageSize must be an integer from 1 to \(Self.maximumJobPageSize)")
            }
            pageSize = size
        }
        let cursor = QueryString.value("cursor", in: parameters)
        let jobID = segment.lowercased()
        let page: (ids: ArraySlice<String>, next: String?)
        do throws(AnalyticsJobStore.ResultsError) {
            page = try jobs.page(jobID, cursor: cursor, pageSize: pageSize, now: now)
        } catch {
            switch error {
            case .unknownJob:
                throw .notFound("Unable to find an analytics job with ID '\(segment)'")
            case .notFulfilled(.failed):
                throw .badRequest("Job '\(jobID)' failed (state FAILED); it has no results")
            case .notFulfilled(let state):
                throw .badRequest("The results of job '\(jobID)' are not available yet (state \(state.rawValue))")
            case .invalidCursor:
                throw .badRequest("The cursor '\(cursor ?? "")' is not valid for job '\(jobID)'")
            case .expired:
                throw .notFound("The results of analytics job '\(jobID)' have expired")
            }
        }
        var members: [(key: String, value: JSONValue)] = [
            ("conversations", .array(page.ids.map { AnalyticsDocumentBuilder.jobEntry(ConversationFacts(id: $0)) }))
        ]
        if let next = page.next { members.append(("cursor", .string(next))) }
        let availability = availabilityCutOff ?? jobs.submissionDate(of: jobID) ?? availabilityDate
        members.append(("dataAvailabilityDate", .string(ConversationDocumentBuilder.timestamp(availability))))
        return Reply(status: 200, body: JSONValue.object(members).compactBytes())
    }
}
