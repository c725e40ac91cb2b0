/// What the derived documents (analytics details, recording metadata, messaging) need to know about a conversation,
/// read back from its conversation document so that every endpoint agrees with it by construction.
///
/// Times are milliseconds since the Unix epoch. The document builder always writes the fields read here, so a
/// missing one is a programming error and traps.
struct ConversationFacts {
    /// One message record of a `messages` media entry.
    struct MessageRecord {
        var id: String
        var time: Int64
        var status: String
        var segmentCount: Int
    }

    /// One media entry of a participant (`calls` or `messages`): an analytics session.
    struct Session {
        /// The media entry's id, used as the analytics `sessionId`.
        var id: String
        var isVoice: Bool
        /// `webmessaging`, `sms` or `whatsapp` for messaging sessions.
        var messageType: String?
        var direction: String
        var connected: Int64
        var disconnected: Int64
        /// Voice sessions only.
        var disconnectType: String?
        /// Voice sessions only: whether the leg was recorded.
        var recording: Bool
        /// Messaging sessions only, in document order.
        var messages: [MessageRecord]
    }

    /// One participant.
    struct Participant {
        var id: String
        var purpose: String
        var name: String?
        var userID: String?
        var queueID: String?
        var ani: String
        var dnis: String
        var start: Int64
        var end: Int64
        var wrapUpCode: String?
        var wrapUpSeconds: Int?
        /// The participant's `attributes`, in document order.
        var attributes: [(key: String, value: String)]
        /// Exactly one in documents today.
        var sessions: [Session]
    }

    var id: String
    var isVoice: Bool
    var start: Int64
    var end: Int64
    var divisionIDs: [String]
    var externalTag: String?
    /// `ACTIVE`, `PAUSED` or `NONE`.
    var recordingState: String
    var participants: [Participant]

    /// The facts of conversation `id` (lowercased here).
    init(id: String) {
        let id = id.lowercased()
        self.init(id: id, document: MockConversationStore.conversationValue(id: id))
    }

    /// The facts of `document`, the conversation document of `id`.
    init(id: String, document: JSONValue) {
        self.id = id
        start = Self.time(document["startTime"])
        end = Self.time(document["endTime"])
        externalTag = document["externalTag"]?.stringValue
        recordingState = Self.text(document["recordingState"])
        divisionIDs = (document["divisions"]?.arrayValue ?? []).compactMap { $0["division"]?["id"]?.stringValue }
        participants = (document["participants"]?.arrayValue ?? []).map(Self.participant)
        isVoice = participants.first?.sessions.first?.isVoice ?? true
    }

    private static func participant(_ value: JSONValue) -> Participant {
        var sessions: [Session] = []
        for call in value["calls"]?.arrayValue ?? [] {
            sessions.append(
                Session(
                    id: text(call["id"]), isVoice: true, messageType: nil, direction: text(call["direction"]),
                    connected: time(call["connectedTime"]), disconnected: time(call["disconnectedTime"]),
                    disconnectType: call["disconnectType"]?.stringValue,
                    recording: call["recording"]?.boolValue ?? false,
                    messages: []))
        }
        for media in value["messages"]?.arrayValue ?? [] {
            let records = (media["messages"]?.arrayValue ?? []).map { record in
                MessageRecord(
                    id: text(record["messageId"]), time: time(record["messageTime"]),
                    status: text(record["messageStatus"]), segmentCount: record["messageSegmentCount"]?.intValue ?? 1)
            }
            sessions.append(
                Session(
                    id: text(media["id"]), isVoice: false, messageType: media["type"]?.stringValue,
                    direction: text(media["direction"]), connected: time(media["connectedTime"]),
                    disconnected: time(media["disconnectedTime"]), disconnectType: nil, recording: false,
                    messages: records))
        }
        let wrapup = value["wrapup"]
        var attributes: [(key: String, value: String)] = []
        if case .object(let members)? = value["attributes"] {
            attributes = members.compactMap { member in member.value.stringValue.map { (member.key, $0) } }
        }
        return Participant(
            id: text(value["id"]), purpose: text(value["purpose"]), name: value["name"]?.stringValue,
            userID: value["userId"]?.stringValue, queueID: value["queueId"]?.stringValue, ani: text(value["ani"]),
            dnis: text(value["dnis"]), start: time(value["startTime"]), end: time(value["endTime"]),
            wrapUpCode: wrapup?["code"]?.stringValue, wrapUpSeconds: wrapup?["durationSeconds"]?.intValue,
            attributes: attributes, sessions: sessions)
    }

    private static func text(_ value: JSONValue?) -> String {
        guard let text = value?.stringValue else { preconditionFailure("conversation document lacks a string field") }
        return text
    }

    private static func time(_ value: JSONValue?) -> Int64 {
        guard let milliseconds = value?.stringValue.flatMap({ ISOTimestamp.milliseconds($0) }) else {
            preconditionFailure("conversation document lacks a timestamp field")
        }
        return milliseconds
    }
}
