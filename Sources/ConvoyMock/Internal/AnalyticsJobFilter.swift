/// The filters of an analytics job request, in Genesys's predicate form:
///
/// ```json
/// {"segmentFilters": [{"type": "and", "predicates": [{"dimension": "mediaType", "value": "message"}]}],
///  "conversationFilters": [{"type": "or", "clauses": [{"type": "and", "predicates": [
///      {"type": "dimension", "dimension": "divisionId", "operator": "matches", "value": "…"}]}]}]}
/// ```
///
/// Every filter of both lists must match. A filter (or clause) of `type` `and` (the default) matches when all its
/// predicates and clauses do, one of `type` `or` when any does (an empty one always matches). A predicate's `type`,
/// when given, must be `dimension`, its `operator`, when given, `matches`; its `dimension` must be `mediaType`
/// (`voice` or `message`; other values match nothing) or `divisionId`, compared exactly. Anything else is rejected, so
/// a request the mock cannot honour fails loudly instead of returning unfiltered results.
struct AnalyticsJobFilter {
    /// Why a filter was rejected, for the `400` message.
    struct Invalid: Error {
        var message: String
    }

    private indirect enum Node {
        case all([Node])
        case any([Node])
        case mediaType(String)
        case divisionID(String)
    }

    private let root: Node

    /// Parses the filters of `body`, a decoded JSON object (filters are optional).
    init(body: [String: Any]) throws(Invalid) {
        var filters: [Node] = []
        for key in ["segmentFilters", "conversationFilters"] {
            guard let value = body[key] else { continue }
            guard let list = value as? [Any] else { throw Invalid(message: "\(key) must be an array") }
            for filter in list { filters.append(try Self.group(filter, in: key)) }
        }
        root = .all(filters)
    }

    /// Whether `entry` passes every filter.
    func matches(_ entry: ConversationUniverse.Entry) -> Bool {
        Self.evaluate(root, entry)
    }

    private static func evaluate(_ node: Node, _ entry: ConversationUniverse.Entry) -> Bool {
        switch node {
        case .all(let nodes): nodes.allSatisfy { evaluate($0, entry) }
        case .any(let nodes): nodes.isEmpty || nodes.contains { evaluate($0, entry) }
        case .mediaType(let value): entry.mediaType == value
        case .divisionID(let value): entry.divisionID == value
        }
    }

    private static func group(_ value: Any, in key: String) throws(Invalid) -> Node {
        guard let object = value as? [String: Any] else {
            throw Invalid(message: "every entry of \(key) must be an object")
        }
        var nodes: [Node] = []
        if let predicates = object["predicates"] {
            guard let list = predicates as? [Any] else { throw Invalid(message: "predicates must be an array") }
            for predicate in list { nodes.append(try Self.predicate(predicate)) }
        }
        if let clauses = object["clauses"] {
            guard let list = clauses as? [Any] else { throw Invalid(message: "clauses must be an array") }
            for clause in list { nodes.append(try group(clause, in: key)) }
        }
        switch object["type"] as? String ?? "and" {
        case "and": return .all(nodes)
        case "or": return .any(nodes)
        case let other: throw Invalid(message: "filter type '\(other)' is not supported (use and/or)")
        }
    }

    private static func predicate(_ value: Any) throws(Invalid) -> Node {
        guard let object = value as? [String: Any] else { throw Invalid(message: "every predicate must be an object") }
        if let type = object["type"], type as? String != "dimension" {
            throw Invalid(message: "only dimension predicates are supported")
        }
        if let type = object["operator"], type as? String != "matches" {
            throw Invalid(message: "only the matches operator is supported")
        }
        guard let dimension = object["dimension"] as? String, let match = object["value"] as? String else {
            throw Invalid(message: "a predicate needs a dimension and a string value")
        }
        switch dimension {
        case "mediaType": return .mediaType(match)
        case "divisionId": return .divisionID(match)
        default: throw Invalid(message: "dimension '\(dimension)' is not supported (use mediaType or divisionId)")
        }
    }
}
