import Foundation

/// Deterministic conversation ids and documents: the same id always yields the same bytes, in every process.
///
/// Documents follow the shape of Genesys Cloud's `GET /api/v2/conversations/{id}`: about 60 % voice conversations
/// (participants with `calls`, `tel:+1…` ani/dnis) and 40 % messaging (participants with `messages` of type
/// `webmessaging`, `sms` or `whatsapp`), timestamps in 2026 with millisecond precision, 1.5–4 KB of compact JSON, and
/// always at least one string that needs JSON escaping (a quoted survey comment; some names carry quotes too).
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
