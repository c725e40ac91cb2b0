/// Builds `GET /api/v2/conversations/{id}/recordingmetadata` from a conversation's ``ConversationFacts``.
///
/// A conversation whose `recordingState` is `NONE` has no recordings (`[]`). Otherwise there is one recording per
/// agent leg: one or two for voice (two after an attended transfer; `media` `audio`, `mediaSubtype` `Trunk`), one
/// for messaging (`media` `message`, no `mediaSubtype`). Each spans its agent session, whose id is its
/// `sessionId`. About a quarter are `ARCHIVED` (with an `archiveDate` 30 days after the conversation ended), the rest
/// `AVAILABLE`; `deleteDate` and `exportDate` appear on some. All choices are a stable function of the id.
enum RecordingMetadataBuilder {
    private static let regions = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]
    private static let day: Int64 = 86_400_000

    static func recordings(_ facts: ConversationFacts) -> JSONValue {
        guard facts.recordingState != "NONE" else { return .array([]) }
        var random = SplitMix64(seed: StableHash.fnv1a64(facts.id) ^ 0x3C6E_F372_FE94_F82B)
        let region = regions[random.nextInt(regions.count)]
        var entries: [JSONValue] = []
        for participant in facts.participants where participant.purpose == "agent" {
            for session in participant.sessions {
                var members: [(key: String, value: JSONValue)] = [
                    ("id", .string(random.uuidString())),
                    ("conversationId", .string(facts.id)),
                    ("startTime", .string(timestamp(session.connected))),
                    ("endTime", .string(timestamp(session.disconnected))),
                    ("media", session.isVoice ? "audio" : "message"),
                ]
                if session.isVoice { members.append(("mediaSubtype", "Trunk")) }
                members.append(("annotations", .array([])))
                let archived = random.chance(0.25)
                members.append(("fileState", archived ? "ARCHIVED" : "AVAILABLE"))
                if archived { members.append(("archiveDate", .string(timestamp(facts.end + 30 * day)))) }
                if random.chance(0.5) { members.append(("deleteDate", .string(timestamp(facts.end + 365 * day)))) }
                if random.chance(0.15) { members.append(("exportDate", .string(timestamp(facts.end + day)))) }
                members.append(("sessionId", .string(session.id)))
                members.append(("region", .string(region)))
                entries.append(.object(members))
            }
        }
        return .array(entries)
    }

    private static func timestamp(_ milliseconds: Int64) -> String {
        ConversationDocumentBuilder.timestamp(milliseconds)
    }
}
