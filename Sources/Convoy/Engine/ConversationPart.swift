import Foundation

/// What to fetch for each conversation (`--include`). Every part is a key of the output record;
/// all parts of one conversation land in one record, and every request draws on the shared budget.
///
/// | part | request | key(s) in the record |
/// |---|---|---|
/// | `conversation` | `GET /api/v2/conversations/{id}` | `conversation` |
/// | `analytics` | `GET /api/v2/analytics/conversations/{id}/details` | `analytics` |
/// | `recordingmetadata` | `GET /api/v2/conversations/{id}/recordingmetadata` | `recordingmetadata` |
/// | `messages` | `GET /api/v2/conversations/messages/{id}`, then `POST …/messages/bulk` per 1,000 message ids | `messages`, `messageBodies` (one bulk answer per element) |
///
/// A 404 on the first part means the conversation does not exist (an error record). A 404 on a
/// later part means that part does not apply (a voice call has no messages, analytics may lag) and
/// its key holds `null`.
public enum ConversationPart: String, Sendable, CaseIterable {
    case conversation, analytics, recordingmetadata, messages

    /// Parses a comma-separated list such as `conversation,analytics`.
    public static func parseList(_ text: String) throws -> [ConversationPart] {
        var parts: [ConversationPart] = []
        for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            guard let part = ConversationPart(rawValue: name) else {
                throw ConvoyError.usage(
                    "unknown part '\(name)' in --include; choose from \(allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            if !parts.contains(part) { parts.append(part) }
        }
        guard !parts.isEmpty else { throw ConvoyError.usage("--include needs at least one part") }
        return parts
    }

    /// The path of this part's first request for conversation `id`.
    func path(for id: ConversationID) -> String {
        switch self {
        case .conversation: "api/v2/conversations/\(id)"
        case .analytics: "api/v2/analytics/conversations/\(id)/details"
        case .recordingmetadata: "api/v2/conversations/\(id)/recordingmetadata"
        case .messages: "api/v2/conversations/messages/\(id)"
        }
    }

    /// The Genesys permission the part's requests need, named when a run stops on 403s.
    public var permission: String {
        switch self {
        case .conversation: "conversation:communication:view"
        case .analytics: "analytics:conversationDetail:view"
        case .recordingmetadata: "recording:recording:view"
        case .messages: "conversation:message:view"
        }
    }

    /// Most message ids one bulk request may carry.
    public static let messageBatchSize = 1000

    /// The message ids in a messaging conversation document (Genesys's `MessageConversation`):
    /// every `messageId` of `participants[].messages[]` (each a `MessageDetails`), in order, without
    /// repeats. Nil when the document is not that shape (no `participants` array, a `messages`
    /// that is not a list of objects with a string `messageId`): Convoy cannot tell which bodies
    /// to ask for, and says so rather than record none.
    static func messageIDs(in document: [UInt8]) -> [String]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(document)) as? [String: Any],
            let participants = object["participants"] as? [Any]
        else { return nil }
        var seen = Set<String>()
        var ids: [String] = []
        for participant in participants {
            guard let participant = participant as? [String: Any] else { return nil }
            guard let messages = participant["messages"] else { continue }
            guard let list = messages as? [Any] else { return nil }
            for message in list {
                guard let id = (message as? [String: Any])?["messageId"] as? String else { return nil }
                if seen.insert(id).inserted { ids.append(id) }
            }
        }
        return ids
    }
}
