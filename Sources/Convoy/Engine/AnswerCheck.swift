import Foundation

/// Whether a 2xx answer is the document that was asked for, before anything is recorded: valid
/// JSON of the part's shape that names the conversation it was asked for. A document for another
/// id (a server or proxy that answered the wrong request) is never recorded under this one.
///
/// | request | shape | must name the id in |
/// |---|---|---|
/// | `conversation`, `messages` | object | its `id` |
/// | `analytics` | object | its `conversationId` |
/// | `recordingmetadata` | array of objects | each element's `conversationId`, where present |
/// | bulk message bodies | object | (no id: its entities are messages) |
enum AnswerCheck {
    enum Verdict: Equatable {
        /// The compacted document, to record verbatim.
        case document([UInt8])
        /// Why the answer is not the document asked for.
        case rejected(String)
    }

    /// Checks `body`, the answer to the request for `part` of conversation `id` (`part` nil for a
    /// bulk message-bodies request).
    static func verdict(_ body: Data, part: ConversationPart?, id: ConversationID, status: Int) -> Verdict {
        let key: String
        switch part {
        case .conversation?, .messages?: key = "id"
        case .analytics?, .recordingmetadata?: key = "conversationId"
        case nil: key = ""
        }
        guard let scanned = JSONCompactor.compact(body, collecting: key) else {
            return .rejected("HTTP \(status) with a body that is not valid JSON (\(body.count) bytes)")
        }
        let wanted = id.description
        func names(_ value: String) -> Bool { value.lowercased() == wanted }
        switch part {
        case .recordingmetadata?:
            guard scanned.isArray else { return .rejected("HTTP \(status) with a body that is not a JSON array") }
            if let other = scanned.values.first(where: { !names($0) }) {
                return .rejected("HTTP \(status) with recording metadata of another conversation (\(shortened(other)))")
            }
        default:
            guard scanned.isObject else { return .rejected("HTTP \(status) with a body that is not a JSON object") }
            guard part != nil else { break }
            guard let named = scanned.values.first else {
                return .rejected("HTTP \(status) with a document that has no \(key)")
            }
            guard scanned.values.count == 1, names(named) else {
                return .rejected(
                    "HTTP \(status) with the document of another conversation (\(key) \(shortened(named)))")
            }
        }
        return .document(scanned.bytes)
    }

    /// A server-supplied value, cut short and stripped of anything that is not printable ASCII.
    private static func shortened(_ value: String) -> String {
        String(value.prefix(60).map { ($0.asciiValue.map { (32..<127).contains($0) } ?? false) ? $0 : "?" })
    }
}
