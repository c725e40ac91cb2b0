import Foundation

/// Writes a *stripped* export of mock conversations, the kind a recording or transcript export
/// leaves: the conversation ids and the media, none of the compliance fields (no participant
/// attributes such as `legal_hold`, no divisions, no start or end time, no recording state, no
/// wrap-up codes, no external tag). `convoy enrich` recovers them from the conversation API.
///
/// - Messaging conversations go to WhatsApp-style transcripts, `transcripts/chat-NNN.ndjson`:
///   one line per message with `conversationId`, `messageId`, `channel`, `direction`, `from`,
///   `sentAt` (whole seconds) and `text`.
/// - Voice conversations go to recording exports, `voice/recordings-NNN.json`: one JSON document
///   with a `recordings` array of `conversationId`, `recordingId`, `mediaType`, `durationSeconds`
///   and `file`.
///
/// The files split in proportion to the two kinds (one at least of each kind present) and the ids
/// are dealt round-robin within a kind. The same ids and file count give the same bytes.
public enum MockExport {
    /// One file written: its path relative to the folder, and its conversations in order (each
    /// once, though a transcript has a line per message).
    public struct File: Sendable, Equatable {
        public var path: String
        public var ids: [String]
    }

    /// Writes the export of `ids` (lowercase UUIDs) in about `files` files under `folder`
    /// (created when absent).
    public static func write(ids: [String], files: Int, to folder: String) throws -> [File] {
        let messaging = ids.filter(MockConversationStore.isMessaging)
        let voice = ids.filter { !MockConversationStore.isMessaging($0) }
        let total = max(1, files)
        var chatFiles =
            messaging.isEmpty ? 0 : max(1, Int((Double(total * messaging.count) / Double(max(1, ids.count))).rounded()))
        if !voice.isEmpty { chatFiles = min(chatFiles, total - 1) }
        let voiceFiles = voice.isEmpty ? 0 : max(1, total - chatFiles)
        var written: [File] = []
        for (index, group) in deal(messaging, into: chatFiles).enumerated() {
            let path = String(format: "transcripts/chat-%03d.ndjson", index + 1)
            try write(group.map(transcript).joined(), to: folder, path)
            written.append(File(path: path, ids: group))
        }
        for (index, group) in deal(voice, into: voiceFiles).enumerated() {
            let path = String(format: "voice/recordings-%03d.json", index + 1)
            let entries = group.map(recording).joined(separator: ",\n    ")
            try write(
                "{\n  \"export\": \"recordings\",\n  \"recordings\": [\n    \(entries)\n  ]\n}\n", to: folder, path)
            written.append(File(path: path, ids: group))
        }
        return written
    }

    private static func deal(_ ids: [String], into count: Int) -> [[String]] {
        guard count > 0 else { return [] }
        var groups = Array(repeating: [String](), count: count)
        for (index, id) in ids.enumerated() { groups[index % count].append(id) }
        return groups
    }

    private static func write(_ text: String, to folder: String, _ path: String) throws {
        let full = (folder as NSString).appendingPathComponent(path)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: full), options: .atomic)
    }

    private static let lines = [
        "Hi, I need to change the address on my account.", "Sure, can you confirm your postcode?",
        "It's 90210. Also, my last bill said \"overdue\" but I paid it.", "Thanks, I can see the payment now.",
        "Great, thank you!", "Is there anything else I can help with?",
    ]

    /// The lines of one messaging conversation's transcript.
    private static func transcript(_ id: String) -> String {
        let facts = ConversationFacts(id: id)
        guard let thread = MessagingThread(facts: facts, count: nil) else { return "" }
        return thread.messages.enumerated().map { index, message in
            let text = lines[index % lines.count].replacingOccurrences(of: "\"", with: "\\\"")
            let seconds = ConversationDocumentBuilder.timestamp(message.time / 1000 * 1000).replacingOccurrences(
                of: ".000Z", with: "Z")
            return #"{"conversationId":"\#(facts.id)","messageId":"\#(message.id)","channel":"\#(thread.messageType)","#
                + #""direction":"\#(message.isInbound ? "inbound" : "outbound")","from":"\#(message.isInbound ? "customer" : "agent")","#
                + #""sentAt":"\#(seconds)","text":"\#(text)"}"# + "\n"
        }.joined()
    }

    /// One voice conversation's entry of a recordings export.
    private static func recording(_ id: String) -> String {
        let facts = ConversationFacts(id: id)
        var random = SplitMix64(seed: StableHash.fnv1a64(facts.id + "#recording"))
        let recordingID = random.uuidString()
        return #"{"conversationId": "\#(facts.id)", "recordingId": "\#(recordingID)", "mediaType": "audio/opus", "#
            + #""durationSeconds": \#((facts.end - facts.start) / 1000), "file": "voice/\#(recordingID).opus"}"#
    }
}
