import Foundation

/// Deterministic conversation ids and documents: the same id always yields the same bytes, in every process.
///
/// Documents follow Genesys Cloud's `Conversation` model (the official SDK's, as `contract/genesys-models.json` holds
/// it) for `GET /api/v2/conversations/{id}`: about 60 % voice conversations
/// (participants with `calls`, `tel:+1…` ani/dnis) and 40 % messaging (participants with `messages` of type
/// `webmessaging`, `sms` or `whatsapp`), timestamps in 2026 with millisecond precision, 1.5–6 KB of compact JSON, and
/// always at least one string that needs JSON escaping (a quoted survey comment; some names carry quotes too).
///
/// The other endpoints' documents (analytics details, recording metadata, messaging) are derived from the
/// conversation document of the same id, so ids, times and divisions always agree with it.
public enum MockConversationStore {
    /// `count` distinct lowercase canonical version-4 UUID strings, the same for the same `seed`.
    public static func sampleIDs(count: Int, seed: UInt64 = 42) -> [String] {
        var generator = SplitMix64(seed: seed)
        var seen = Set<String>(minimumCapacity: max(0, count))
        var ids: [String] = []
        ids.reserveCapacity(max(0, count))
        while ids.count < count {
            let id = generator.uuidString()
            if seen.insert(id).inserted { ids.append(id) }
        }
        return ids
    }

    /// Whether `id` exists: `mix(fnv1a64(id.lowercased())) % 1000 >= missingPerMille` (the bucket is a stable hash,
    /// so exactly the same ids are missing in every run; about `missingPerMille` in a thousand of them).
    /// `missingPerMille` is clamped to `0...1000`.
    public static func exists(_ id: String, missingPerMille: Int) -> Bool {
        let threshold = UInt64(min(max(missingPerMille, 0), 1000))
        return bucket(of: id) >= threshold
    }

    /// The compact JSON document of conversation `id` (as given, lowercased); byte-identical on every call.
    public static func conversationDocument(id: String) -> Data {
        Data(documentBytes(id: id, pretty: false))
    }

    // MARK: Derived documents

    /// The compact analytics details of conversation `id` (`GET /api/v2/analytics/conversations/{id}/details`),
    /// byte-identical on every call and consistent with ``conversationDocument(id:)``: same `conversationStart` and
    /// `conversationEnd` as its `startTime`/`endTime`, its division ids, one analytics participant per participant
    /// (same `participantId`, `purpose`, `userId`) and one session per `calls`/`messages` entry (`sessionId` = the
    /// entry's id, `mediaType` `voice` or `message`). Voice conversations also carry `mediaStatsMinConversationMos`.
    public static func analyticsDocument(id: String) -> Data {
        Data(AnalyticsDocumentBuilder.details(ConversationFacts(id: id)).compactBytes())
    }

    /// The compact recording metadata of conversation `id` (`GET /api/v2/conversations/{id}/recordingmetadata`): a
    /// JSON array of 0–2 recordings, none when the document's `recordingState` is `NONE`, otherwise one per agent
    /// leg, spanning that leg, with the leg's media entry id as `sessionId`. Byte-identical on every call.
    public static func recordingMetadataDocument(id: String) -> Data {
        Data(RecordingMetadataBuilder.recordings(ConversationFacts(id: id)).compactBytes())
    }

    /// Whether conversation `id` is a messaging conversation (its participants carry `messages` rather than
    /// `calls`); about 40 % are.
    public static func isMessaging(_ id: String) -> Bool {
        !ConversationDocumentBuilder.basics(id: id.lowercased()).isVoice
    }

    /// The compact messaging document of conversation `id` (`GET /api/v2/conversations/messages/{id}`), or `nil` for
    /// a voice conversation. Same id, start and end time and participant ids as the conversation document; every
    /// participant has its media entry (same id and type) listing its messages by time. The messages are exactly
    /// ``messageIDs(conversationID:messageCount:)`` with the same `messageCount`.
    public static func messagingDocument(id: String, messageCount: Int? = nil) -> Data? {
        MessagingThread(facts: ConversationFacts(id: id), count: messageCount).map {
            Data($0.document().compactBytes())
        }
    }

    /// The message ids of messaging conversation `conversationID`, empty for a voice conversation. First come the
    /// message ids of its conversation document (the customer's, then the agent's), then generated ones; the list
    /// has `messageCount` ids (clamped to `0...1_000_000`) or, when `nil`, the conversation's own count, between the
    /// document's own (2–4) and 40. A shorter list is always a prefix of a longer one.
    public static func messageIDs(conversationID: String, messageCount: Int? = nil) -> [String] {
        MessagingThread(facts: ConversationFacts(id: conversationID), count: messageCount)?.messages.map(\.id) ?? []
    }

    /// The `startTime` of conversation `id`'s document: a millisecond instant in 2026 (January 1 to December 27).
    public static func startTime(of id: String) -> Date {
        date(milliseconds: ConversationDocumentBuilder.basics(id: id.lowercased()).start)
    }

    /// The division ids of conversation `id` (the `divisions[].division.id` of its document; exactly one).
    public static func divisionIDs(of id: String) -> [String] {
        [ConversationDocumentBuilder.basics(id: id.lowercased()).divisionID]
    }

    /// The conversations an analytics job over `interval` finds, in the order its result pages list them; with the
    /// default `availableBefore` (`nil`), also the conversations the synchronous details query over `interval`
    /// counts in `totalHits`, in the order its pages list them.
    ///
    /// The universe is `sampleIDs(count: universeSize, seed: 42)` (so `sampleIDs(count:)` ids with the default seed
    /// belong to it while `count <= universeSize`); its starts lie in 2026, from January 1 to December 27. A
    /// conversation is found when its ``startTime(of:)`` lies in `interval` (half-open; both bounds rounded to the
    /// nearest millisecond) and before `availableBefore` (``MockServerConfiguration/analyticsAvailability``, rounded
    /// likewise; `nil` meaning no cut-off), ``exists(_:missingPerMille:)`` holds, its media type (`"voice"` or
    /// `"message"`) equals `mediaType` and its division equals `divisionID` (each `nil` meaning any). Sorted by start
    /// time, then id.
    public static func conversations(
        inInterval interval: Range<Date>, universeSize: Int = 2000, missingPerMille: Int = 0,
        mediaType: String? = nil, divisionID: String? = nil, availableBefore: Date? = nil
    ) -> [String] {
        let bounds = milliseconds(interval.lowerBound)..<milliseconds(interval.upperBound)
        return ConversationUniverse(size: universeSize).conversations(
            in: ConversationUniverse.available(bounds, before: availableBefore.map(milliseconds)),
            missingPerMille: missingPerMille
        ) { entry in
            (mediaType == nil || entry.mediaType == mediaType) && (divisionID == nil || entry.divisionID == divisionID)
        }
    }

    /// The instant `milliseconds` after the Unix epoch.
    static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// `date` in milliseconds since the Unix epoch, rounded to the nearest one.
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// The document as UTF-8 bytes, compact or pretty-printed.
    static func documentBytes(id: String, pretty: Bool) -> [UInt8] {
        let value = conversationValue(id: id.lowercased())
        return pretty ? value.prettyBytes() : value.compactBytes()
    }

    /// The id's stable bucket in `0..<1000`.
    static func bucket(of id: String) -> UInt64 {
        var hash = StableHash.fnv1a64(id.lowercased())
        // Finaliser (MurmurHash3 fmix64) so every bit of the FNV hash reaches the low digits.
        hash = (hash ^ (hash >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        hash = (hash ^ (hash >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        hash ^= hash >> 33
        return hash % 1000
    }

    /// The document as an ordered JSON value.
    static func conversationValue(id: String) -> JSONValue {
        var builder = ConversationDocumentBuilder(id: id)
        return builder.build()
    }
}
