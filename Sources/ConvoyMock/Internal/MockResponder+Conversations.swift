import Foundation

/// The per-conversation endpoints: the conversation itself, its analytics details (one or several), its recording
/// metadata, and the messaging conversation with its message bodies.
extension MockResponder {
    /// Most ids `GET /api/v2/analytics/conversations/details` accepts.
    static let maximumBatchIDs = 100
    /// Most message ids one bulk request accepts.
    static let maximumBulkMessageIDs = 1000

    /// `GET /api/v2/conversations/{id}`: the conversation document (pretty-printed with ``MockFaults/prettyPrintRate``).
    mutating func conversation(_ segment: Substring) throws(EndpointError) -> Reply {
        let id = try existingConversation(segment)
        if random.chance(configuration.faults.prettyPrintRate) {
            return Reply(status: 200, body: MockConversationStore.documentBytes(id: id, pretty: true))
        }
        if let cached = documentCache[id] { return Reply(status: 200, body: cached) }
        let bytes = MockConversationStore.documentBytes(id: id, pretty: false)
        if documentCache.count >= Self.maximumCachedDocuments { documentCache.removeAll(keepingCapacity: true) }
        documentCache[id] = bytes
        return Reply(status: 200, body: bytes)
    }

    /// `GET /api/v2/analytics/conversations/{id}/details`.
    func analytics(_ segment: Substring) throws(EndpointError) -> Reply {
        let id = try existingConversation(segment)
        return Reply(status: 200, body: AnalyticsDocumentBuilder.details(ConversationFacts(id: id)).compactBytes())
    }

    /// `GET /api/v2/analytics/conversations/details?id=a,b,c`: `{"conversations":[…]}` with the existing ones, in the
    /// order asked, each once. Ids may be comma-separated and/or repeat the parameter; none, more than
    /// ``maximumBatchIDs`` distinct ones, or a non-UUID → `400`.
    func analyticsBatch(target: String) throws(EndpointError) -> Reply {
        var ids: [String] = []
        var seen = Set<String>()
        for pair in QueryString.parameters(ofTarget: target) where pair.name == "id" {
            for part in pair.value.split(separator: ",") {
                let text = part.trimmingCharacters(in: .whitespaces)
                guard !text.isEmpty else { continue }
                guard UUIDFormatter.isUUID(text) else {
                    throw .badRequest("The conversation ID '\(text)' is not a valid UUID")
                }
                if seen.insert(text.lowercased()).inserted { ids.append(text.lowercased()) }
            }
        }
        guard !ids.isEmpty else { throw .badRequest("The id query parameter is required") }
        guard ids.count <= Self.maximumBatchIDs else {
            throw .badRequest("At most \(Self.maximumBatchIDs) conversation ids may be requested at once")
        }
        let documents = ids.filter { MockConversationStore.exists($0, missingPerMille: configuration.missingPerMille) }
            .map { AnalyticsDocumentBuilder.details(ConversationFacts(id: $0)) }
        return Reply(status: 200, body: JSONValue.object([("conversations", .array(documents))]).compactBytes())
    }

    /// `GET /api/v2/conversations/{id}/recordingmetadata`.
    func recordingMetadata(_ segment: Substring) throws(EndpointError) -> Reply {
        let id = try existingConversation(segment)
        return Reply(status: 200, body: RecordingMetadataBuilder.recordings(ConversationFacts(id: id)).compactBytes())
    }

    /// `GET /api/v2/conversations/messages/{id}`; `404` for a voice conversation.
    func messagingConversation(_ segment: Substring) throws(EndpointError) -> Reply {
        Reply(status: 200, body: try messagingThread(segment).document().compactBytes())
    }

    /// `POST /api/v2/conversations/messages/{id}/messages/bulk` with a JSON array of message ids (at most
    /// ``maximumBulkMessageIDs``): a `TextMessageListing`, `{"entities":[…]}` for those of this conversation. Every
    /// entity has its `normalizedMessage`, so `?useNormalizedMessage=true` changes nothing.
    func messagesBulk(_ segment: Substring, request: HTTPRequest) throws(EndpointError) -> Reply {
        let thread = try messagingThread(segment)
        guard let ids = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String] else {
            throw .badRequest("The request body must be a JSON array of message id strings")
        }
        guard ids.count <= Self.maximumBulkMessageIDs else {
            throw .badRequest("At most \(Self.maximumBulkMessageIDs) message ids may be requested at once")
        }
        return Reply(status: 200, body: thread.bulk(ids: ids).compactBytes())
    }

    // MARK: Lookup

    /// The lowercased id in `segment`: `400` unless it is a UUID, `404` unless it exists.
    func existingConversation(_ segment: Substring) throws(EndpointError) -> String {
        guard UUIDFormatter.isUUID(segment) else {
            throw .badRequest("The conversation ID '\(segment)' is not a valid UUID")
        }
        let id = segment.lowercased()
        guard MockConversationStore.exists(id, missingPerMille: configuration.missingPerMille) else {
            throw .notFound("Unable to find a conversation with ID '\(id)'")
        }
        return id
    }

    /// The messaging thread of the conversation in `segment` (``MockServerConfiguration/messagesPerConversation``
    /// messages, or its own count); `404` for a voice conversation.
    private func messagingThread(_ segment: Substring) throws(EndpointError) -> MessagingThread {
        let id = try existingConversation(segment)
        guard MockConversationStore.isMessaging(id),
            let thread = MessagingThread(facts: ConversationFacts(id: id), count: configuration.messagesPerConversation)
        else { throw .notFound("Unable to find a messaging conversation with ID '\(id)'") }
        return thread
    }
}
