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
///
/// That is ``Layout/files``. ``Layout/s3`` writes what Genesys's bulk recording export to AWS S3
/// leaves instead (help center, "Working with exported recordings in AWS S3 bucket"):
/// `{organizationId}/year={y}/month={m}/day={d}/hour={h}/conversation_id={id}/`, the date and hour
/// when the conversation began (UTC), and in each folder one file per recording named by the
/// recording id (`.opus` audio for a call, a `.json` transcript for a message) with
/// `{recordingId}_metadata.json` beside it (`mediaType` `Call` or `Message`, `provider`, `userIds`,
/// …). Only every other metadata file names its `conversationId`: the path is the one sure place.
public enum MockExport {
    /// How the export is laid out.
    public enum Layout: String, Sendable, CaseIterable {
        /// Genesys's S3 layout: a folder per conversation, a file per recording.
        case s3
        /// A few JSON and NDJSON files that each list many conversations.
        case files
    }

    /// The organization every mock conversation belongs to.
    public static let organizationID = "5c2f0d1e-7a3b-4c8e-9f10-2b6d4e8a1c3f"

    /// One file written: its path relative to the folder, and its conversations in order (each
    /// once, though a transcript has a line per message).
    public struct File: Sendable, Equatable {
        public var path: String
        public var ids: [String]
    }

    /// Writes the export of `ids` (lowercase UUIDs) under `folder` (created when absent): in about
    /// `files` files, or with ``Layout/s3`` a folder per conversation (`files` is then unused). Each
    /// ``File`` returned is a conversation folder in the S3 layout.
    public static func write(ids: [String], files: Int, to folder: String, layout: Layout = .files) throws -> [File] {
        if layout == .s3 { return try writeS3(ids: ids, to: folder) }
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
            try write(group.map { transcript($0) }.joined(), to: folder, path)
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

    private static func writeS3(ids: [String], to folder: String) throws -> [File] {
        var written: [File] = []
        for id in ids {
            let facts = ConversationFacts(id: id)
            let start = Date(timeIntervalSince1970: Double(facts.start) / 1000)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let parts = calendar.dateComponents([.year, .month, .day, .hour], from: start)
            let path = String(
                format: "%@/year=%04d/month=%02d/day=%02d/hour=%02d/conversation_id=%@", organizationID, parts.year!,
                parts.month!, parts.day!, parts.hour!, facts.id)
            var random = SplitMix64(seed: StableHash.fnv1a64(facts.id + "#s3"))
            let userIDs = facts.participants.compactMap(\.userID).map { #""\#($0)""# }.joined(separator: ",")
            for _ in 0..<(1 + random.nextInt(2)) {
                let recordingID = random.uuidString()
                let named = random.chance(0.5) ? #""conversationId":"\#(facts.id)","# : ""
                let mediaType = facts.isVoice ? "Call" : "Message"
                let metadata =
                    #"{\#(named)"recordingId":"\#(recordingID)","mediaType":"\#(mediaType)","provider":"Genesys Cloud","#
                    + #""userIds":[\#(userIDs)],"startTime":"\#(ConversationDocumentBuilder.timestamp(facts.start))","#
                    + #""endTime":"\#(ConversationDocumentBuilder.timestamp(facts.end))","#
                    + #""fileName":"\#(recordingID)\#(facts.isVoice ? ".opus" : ".json")"}"# + "\n"
                try write(metadata, to: folder, "\(path)/\(recordingID)_metadata.json")
                if facts.isVoice {
                    // Opus in Ogg: the recording itself, which a reader of ids must skip, not parse.
                    var audio: [UInt8] = Array("OggS".utf8) + [0, 2]
                    for _ in 0..<(200 + random.nextInt(800)) { audio.append(UInt8(truncatingIfNeeded: random.next())) }
                    try write(Data(audio), to: folder, "\(path)/\(recordingID).opus")
                } else {
                    try write(transcript(id, named: false), to: folder, "\(path)/\(recordingID).json")
                }
            }
            written.append(File(path: path, ids: [facts.id]))
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
        try write(Data(text.utf8), to: folder, path)
    }

    private static func write(_ data: Data, to folder: String, _ path: String) throws {
        let full = (folder as NSString).appendingPathComponent(path)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: full), options: .atomic)
    }

    private static let lines = [
        "Hi, I need to change the address on my account.", "Sure, can you confirm your postcode?",
        "It's 90210. Also, my last bill said \"overdue\" but I paid it.", "Thanks, I can see the payment now.",
        "Great, thank you!", "Is there anything else I can help with?",
    ]

    /// The lines of one messaging conversation's transcript; each names the conversation unless
    /// `named` is false (a transcript in a conversation's own folder of the S3 layout).
    private static func transcript(_ id: String, named: Bool = true) -> String {
        let facts = ConversationFacts(id: id)
        guard let thread = MessagingThread(facts: facts, count: nil) else { return "" }
        return thread.messages.enumerated().map { index, message in
            let text = lines[index % lines.count].replacingOccurrences(of: "\"", with: "\\\"")
            let seconds = ConversationDocumentBuilder.timestamp(message.time / 1000 * 1000).replacingOccurrences(
                of: ".000Z", with: "Z")
            let conversation = named ? #""conversationId":"\#(facts.id)","# : ""
            return #"{\#(conversation)"messageId":"\#(message.id)","channel":"\#(thread.messageType)","#
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
