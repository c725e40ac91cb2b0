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

    /// Parses one line of bytes without its terminator: a bare UUID (the common case, millions of
    /// lines) without a `String`, anything else as ``init(parsing:)-(Substring)`` does.
    public init(parsing bytes: UnsafeRawBufferPointer) {
        var start = 0
        var end = bytes.count
        if end > 0, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        while start < end, bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t") { start += 1 }
        while end > start, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        if end - start == 36, let id = ConversationID(ascii: UnsafeRawBufferPointer(rebasing: bytes[start..<end])) {
            self = .id(id)
            return
        }
        self.init(parsing: Substring(decoding: bytes, as: UTF8.self))
    }

    /// Parses one line of `length` bytes, of which `bytes` holds all, or when it is longer than
    /// ``IDReader/maxLineLength`` only the first bytes: such a line is invalid, recorded by its
    /// first bytes and its length, never whole.
    public init(parsing bytes: UnsafeRawBufferPointer, length: Int) {
        guard length > IDReader.maxLineLength else {
            self.init(parsing: bytes)
            return
        }
        let excerpt = String(decoding: bytes.prefix(IDReader.excerptLength), as: UTF8.self)
        self = .invalid(
            excerpt,
            reason: "the line is \(length) bytes long, over the limit of \(IDReader.maxLineLength >> 20) MiB: only its "
                + "first \(IDReader.excerptLength) bytes are kept")
    }

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
