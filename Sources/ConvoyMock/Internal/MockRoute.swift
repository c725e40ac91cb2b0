/// The endpoints the mock serves, recognised from the request path alone (the query string is not part of it).
///
/// Id segments are carried as sent; each handler validates them (a non-UUID conversation id is `400`). A path
/// with an empty segment (`/api/v2/conversations/`) is ``unknown``.
enum MockRoute: Equatable {
    /// `GET /api/v2/conversations/{id}`
    case conversation(Substring)
    /// `GET /api/v2/conversations/{id}/recordingmetadata`
    case recordingMetadata(Substring)
    /// `GET /api/v2/conversations/messages/{id}`
    case messagingConversation(Substring)
    /// `POST /api/v2/conversations/messages/{id}/messages/bulk`
    case messagesBulk(Substring)
    /// `GET /api/v2/analytics/conversations/{id}/details`
    case analytics(Substring)
    /// `GET /api/v2/analytics/conversations/details?id=a,b,c`
    case analyticsBatch
    /// `POST /api/v2/analytics/conversations/details/query`
    case analyticsQuery
    /// `POST /api/v2/analytics/conversations/details/jobs`
    case jobsSubmit
    /// `GET /api/v2/analytics/conversations/details/jobs/availability` (not the status of a job `availability`)
    case jobsAvailability
    /// `GET /api/v2/analytics/conversations/details/jobs/{jobId}`
    case jobStatus(Substring)
    /// `GET /api/v2/analytics/conversations/details/jobs/{jobId}/results`
    case jobResults(Substring)
    /// `POST /oauth/token`
    case token
    /// Anything else: `404 not.found`.
    case unknown

    init(path: Substring) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].isEmpty, !parts.dropFirst().contains(where: \.isEmpty) else {
            self = .unknown
            return
        }
        if parts.count == 3, parts[1] == "oauth", parts[2] == "token" {
            self = .token
            return
        }
        guard parts.count >= 4, parts[1] == "api", parts[2] == "v2" else {
            self = .unknown
            return
        }
        let rest = Array(parts.dropFirst(3))
        switch rest.count {
        case 2 where rest[0] == "conversations":
            self = .conversation(rest[1])
        case 3 where rest[0] == "conversations" && rest[1] == "messages":
            self = .messagingConversation(rest[2])
        case 3 where rest[0] == "conversations" && rest[2] == "recordingmetadata":
            self = .recordingMetadata(rest[1])
        case 5 where rest[0] == "conversations" && rest[1] == "messages" && rest[3] == "messages" && rest[4] == "bulk":
            self = .messagesBulk(rest[2])
        case 3 where rest[0] == "analytics" && rest[1] == "conversations" && rest[2] == "details":
            self = .analyticsBatch
        case 4 where rest[0] == "analytics" && rest[1] == "conversations" && rest[2] == "details" && rest[3] == "jobs":
            self = .jobsSubmit
        case 4 where rest[0] == "analytics" && rest[1] == "conversations" && rest[2] == "details" && rest[3] == "query":
            self = .analyticsQuery
        case 4 where rest[0] == "analytics" && rest[1] == "conversations" && rest[3] == "details":
            self = .analytics(rest[2])
        case 5 where rest[0] == "analytics" && rest[1] == "conversations" && rest[2] == "details" && rest[3] == "jobs":
            self = rest[4] == "availability" ? .jobsAvailability : .jobStatus(rest[4])
        case 6
        where rest[0] == "analytics" && rest[1] == "conversations" && rest[2] == "details" && rest[3] == "jobs"
            && rest[5] == "results":
            self = .jobResults(rest[4])
        default:
            self = .unknown
        }
    }

    /// The key in ``MockCounters/requestsByPath`` and ``MockServerConfiguration/forbiddenRoutes`` (one of
    /// ``MockCounters/routeNames``); `nil` for ``unknown``.
    var counterName: String? {
        switch self {
        case .conversation: "conversation"
        case .recordingMetadata: "recordingmetadata"
        case .messagingConversation: "messages"
        case .messagesBulk: "messagesBulk"
        case .analytics: "analytics"
        case .analyticsBatch: "analyticsBatch"
        case .analyticsQuery: "analyticsQuery"
        case .jobsSubmit: "jobsSubmit"
        case .jobsAvailability: "jobsAvailability"
        case .jobStatus: "jobsStatus"
        case .jobResults: "jobsResults"
        case .token: "token"
        case .unknown: nil
        }
    }

    /// The one method the route accepts; any other gets `405`.
    var method: String {
        switch self {
        case .messagesBulk, .analyticsQuery, .jobsSubmit, .token: "POST"
        default: "GET"
        }
    }
}
