import Foundation

/// One line of id input, parsed.
///
/// Accepted forms, one per line (`\n` or `\r\n`):
/// - a bare UUID, surrounding whitespace trimmed;
/// - a JSON object with a string `conversationId` (preferred) or `id` field, as JSON-lines exports
///   and `convoy`'s own output files carry;
/// - a blank line or a `#` comment, which is skipped.
///
/// Anything else is ``invalid(_:reason:)``: reported, never put in a URL.
public enum InputLine: Sendable, Equatable {
    case id(ConversationID)
    case skip
    case invalid(String, reason: String)

    /// Parses one line without its terminator (a trailing `\r` is dropped).
    public init(parsing line: Substring) {
        var text = line
        if text.last == "\r" { text = text.dropLast() }
        text = Substring(text.trimmingCharacters(in: .whitespaces))
        if text.isEmpty || text.first == "#" {
            self = .skip
            return
        }
        if text.first == "{" {
            self = Self.parseJSON(text)
            return
        }
        if let id = ConversationID(text) {
            self = .id(id)
        } else {
            self = .invalid(String(text), reason: "not a conversation id (expected a UUID such as 3f2a5c9e-...)")
        }
    }

    private static func parseJSON(_ text: Substring) -> InputLine {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            return .invalid(String(text), reason: "line starts with '{' but is not a JSON object")
        }
        guard let value = (object["conversationId"] ?? object["id"]) as? String else {
            return .invalid(String(text), reason: "JSON line has no string \"conversationId\" or \"id\" field")
        }
        guard let id = ConversationID(value.trimmingCharacters(in: .whitespaces)) else {
            return .invalid(value, reason: "not a conversation id (expected a UUID such as 3f2a5c9e-...)")
        }
        return .id(id)
    }
}
