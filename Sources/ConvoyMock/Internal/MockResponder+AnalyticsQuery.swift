/// The synchronous conversation details query, paged by page number.
extension MockResponder {
    /// Page size of the query when the request has no `paging` (or no `pageSize` in it), as Genesys's.
    static let defaultQueryPageSize = 25
    /// Largest page size of the query.
    static let maximumQueryPageSize = 100

    /// `POST /api/v2/analytics/conversations/details/query` with `{"interval":"START/END", "order"?, "orderBy"?,
    /// "paging"?: {"pageSize","pageNumber"}, "segmentFilters"?, "conversationFilters"?}` (filters as for jobs, see
    /// ``AnalyticsJobFilter``) → `{"conversations":[…],"totalHits":N}`, each entry the conversation's details document
    /// (Genesys's `AnalyticsConversationWithoutAttributes`: no participant attributes).
    ///
    /// The query sees, as Genesys's model documents a query's interval, "only conversations that started on a day
    /// touched by the interval": every universe conversation starting on a UTC day that `[START, END)` touches (so
    /// also before `START` and after `END` on those days) that exists and passes the filters (the availability
    /// cut-off does not apply), sorted by start, then id (`order` `asc`, the default) or the reverse
    /// (`desc`); `orderBy`, when given, must be `conversationStart`. `totalHits` counts them all; the page is entries
    /// `(pageNumber - 1) × pageSize ..< pageNumber × pageSize` of them, and an empty page has no `conversations` key,
    /// as in Genesys. `pageSize` (default ``defaultQueryPageSize``) must be in `1...maximumQueryPageSize` and
    /// `pageNumber` (default 1) at least 1; `pageNumber × pageSize` above
    /// ``MockServerConfiguration/queryResultCap`` → `400`, as are the bodies a job submission refuses.
    mutating func analyticsQuery(body: [UInt8]) throws(EndpointError) -> Reply {
        let (object, interval, filter) = try Self.analyticsRequest(body)
        var descending = false
        if let order = object["order"] {
            guard let text = order as? String, text == "asc" || text == "desc" else {
                throw .badRequest("order must be asc or desc")
            }
            descending = text == "desc"
        }
        if let orderBy = object["orderBy"], orderBy as? String != "conversationStart" {
            throw .badRequest("orderBy must be conversationStart")
        }
        var pageSize = Self.defaultQueryPageSize
        var pageNumber = 1
        if let paging = object["paging"] {
            guard let paging = paging as? [String: Any] else { throw .badRequest("paging must be an object") }
            if let value = paging["pageSize"] {
                guard let size = value as? Int, (1...Self.maximumQueryPageSize).contains(size) else {
                    throw .badRequest("paging.pageSize must be an integer from 1 to \(Self.maximumQueryPageSize)")
                }
                pageSize = size
            }
            if let value = paging["pageNumber"] {
                guard let number = value as? Int, number >= 1 else {
                    throw .badRequest("paging.pageNumber must be an integer of at least 1")
                }
                pageNumber = number
            }
        }
        let cap = configuration.queryResultCap
        let (depth, overflow) = pageNumber.multipliedReportingOverflow(by: pageSize)
        guard !overflow, depth <= cap else {
            throw .badRequest(
                "Pagination may not exceed \(cap) results (pageNumber \(pageNumber), pageSize \(pageSize))")
        }
        var ids = conversationUniverse().conversations(
            in: interval, selection: .startDay, missingPerMille: configuration.missingPerMille, where: filter.matches)
        if descending { ids.reverse() }
        let first = min(ids.count, depth - pageSize)
        let page = ids[first..<min(ids.count, depth)]
        var members: [(key: String, value: JSONValue)] = []
        if !page.isEmpty {
            members.append(
                ("conversations", .array(page.map { AnalyticsDocumentBuilder.details(ConversationFacts(id: $0)) })))
        }
        members.append(("totalHits", .int(ids.count)))
        return Reply(status: 200, body: JSONValue.object(members).compactBytes())
    }
}
