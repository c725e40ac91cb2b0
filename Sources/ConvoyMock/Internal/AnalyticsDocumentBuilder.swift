/// Builds the analytics view of a conversation (`GET /api/v2/analytics/conversations/{id}/details`, the details query's
/// rows, and job results, which add participant attributes) from its ``ConversationFacts``, so ids and times agree
/// with the conversation document.
///
/// Mapping: every participant becomes an analytics participant with the same `participantId` and `purpose` (and
/// `userId` for agents); every `calls`/`messages` entry becomes a session with the entry's id as `sessionId` and
/// `mediaType` `voice` or `message`. Segments cover the entry's connected…disconnected span: `ivr` for the IVR,
/// `interact` otherwise (with `queueId` for queue and agent legs), plus a `wrapup` segment after an agent leg with a
/// wrap-up code. Metrics are whole milliseconds or counts, emitted when the span they measure ends.
enum AnalyticsDocumentBuilder {
    /// The full details document (Genesys's `AnalyticsConversationWithoutAttributes`), as the details endpoints and the
    /// details query answer it.
    static func details(_ facts: ConversationFacts) -> JSONValue {
        details(facts, attributes: false)
    }

    /// A job-results entry (Genesys's `AnalyticsConversation`): the details document with each participant's
    /// `attributes`, which only job results carry.
    static func jobEntry(_ facts: ConversationFacts) -> JSONValue {
        details(facts, attributes: true)
    }

    private static func details(_ facts: ConversationFacts, attributes: Bool) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("conversationId", .string(facts.id)),
            ("conversationStart", .string(timestamp(facts.start))),
            ("conversationEnd", .string(timestamp(facts.end))),
            ("divisionIds", .array(facts.divisionIDs.map(JSONValue.string))),
        ]
        if let tag = facts.externalTag { members.append(("externalTag", .string(tag))) }
        if facts.isVoice {
            // 3.50 … 4.99, a stable function of the id.
            let mos = 350 + Int(StableHash.fnv1a64(facts.id + "#mos") % 150)
            members.append(("mediaStatsMinConversationMos", .double(Double(mos) / 100)))
        }
        members.append(("originatingDirection", "inbound"))
        members.append(("participants", .array(facts.participants.map { participant($0, attributes: attributes) })))
        return .object(members)
    }

    private static func participant(_ participant: ConversationFacts.Participant, attributes: Bool) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("participantId", .string(participant.id))]
        if let name = participant.name { members.append(("participantName", .string(name))) }
        members.append(("purpose", .string(participant.purpose)))
        if let userID = participant.userID { members.append(("userId", .string(userID))) }
        let sessions = participant.sessions.map { session($0, of: participant) }
        members.append(("sessions", .array(sessions)))
        if attributes {
            members.append(("attributes", .object(participant.attributes.map { ($0.key, .string($0.value)) })))
        }
        return .object(members)
    }

    private static func session(
        _ session: ConversationFacts.Session, of participant: ConversationFacts.Participant
    )
        -> JSONValue
    {
        var members: [(key: String, value: JSONValue)] = [
            ("mediaType", .string(session.isVoice ? "voice" : "message")),
            ("sessionId", .string(session.id)),
            ("direction", .string(session.direction)),
            ("ani", .string(participant.ani)),
            ("dnis", .string(participant.dnis)),
        ]
        if let type = session.messageType { members.append(("messageType", .string(type))) }
        if session.isVoice { members.append(("recording", .bool(session.recording))) }

        let duration = Int(session.disconnected - session.connected)
        var segment: [(key: String, value: JSONValue)] = [
            ("segmentStart", .string(timestamp(session.connected))),
            ("segmentEnd", .string(timestamp(session.disconnected))),
            ("segmentType", participant.purpose == "ivr" ? "ivr" : "interact"),
        ]
        if let queueID = participant.queueID { segment.append(("queueId", .string(queueID))) }
        if let disconnectType = session.disconnectType { segment.append(("disconnectType", .string(disconnectType))) }
        var segments: [JSONValue] = [.object(segment)]
        var metrics: [JSONValue] = []
        func metric(_ name: String, _ value: Int, at time: Int64) {
            metrics.append(
                .object([("name", .string(name)), ("value", .int(value)), ("emitDate", .string(timestamp(time)))]))
        }
        switch participant.purpose {
        case "customer":
            metric("nConnected", 1, at: session.connected)
        case "ivr":
            metric("tIvr", duration, at: session.disconnected)
        case "acd":
            metric("nOffered", 1, at: session.connected)
            metric("tAcd", duration, at: session.disconnected)
        default:
            let wrapUpMilliseconds = (participant.wrapUpSeconds ?? 0) * 1000
            let handled = session.disconnected + Int64(wrapUpMilliseconds)
            if let code = participant.wrapUpCode {
                var wrapUp: [(key: String, value: JSONValue)] = [
                    ("segmentStart", .string(timestamp(session.disconnected))),
                    ("segmentEnd", .string(timestamp(handled))),
                    ("segmentType", "wrapup"),
                    ("wrapUpCode", .string(code)),
                ]
                if let queueID = participant.queueID { wrapUp.insert(("queueId", .string(queueID)), at: 3) }
                segments.append(.object(wrapUp))
            }
            if session.isVoice { metric("tTalkComplete", duration, at: session.disconnected) }
            if participant.wrapUpCode != nil { metric("tAcw", wrapUpMilliseconds, at: handled) }
            metric("tHandle", duration + wrapUpMilliseconds, at: handled)
        }
        members.append(("segments", .array(segments)))
        members.append(("metrics", .array(metrics)))
        return .object(members)
    }

    private static func timestamp(_ milliseconds: Int64) -> String {
        ConversationDocumentBuilder.timestamp(milliseconds)
    }
}
