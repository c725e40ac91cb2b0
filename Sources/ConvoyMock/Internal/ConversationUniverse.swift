/// The conversations analytics jobs can find: the first `size` ids of `MockConversationStore.sampleIDs(count:seed:)`
/// with seed 42, each at the `startTime` of its conversation document, sorted by start time, then id.
///
/// Only the cheap first draws of each document are computed (``ConversationDocumentBuilder/basics(id:)``), so a
/// universe of 2,000 builds in well under a millisecond per hundred ids.
struct ConversationUniverse {
    /// The seed of the universe's ids, the default of `sampleIDs(count:seed:)`.
    static let seed: UInt64 = 42
    /// Largest accepted size.
    static let maximumSize = 1_000_000

    /// What a job's filters can look at.
    struct Entry {
        var id: String
        /// Milliseconds since the Unix epoch.
        var start: Int64
        /// `voice` or `message`.
        var mediaType: String
        var divisionID: String
    }

    /// Sorted by `start`, then `id`.
    let entries: [Entry]

    init(size: Int) {
        let ids = MockConversationStore.sampleIDs(count: min(max(size, 0), Self.maximumSize), seed: Self.seed)
        entries = ids.map { id in
            let basics = ConversationDocumentBuilder.basics(id: id)
            return Entry(
                id: id, start: basics.start, mediaType: basics.isVoice ? "voice" : "message",
                divisionID: basics.divisionID)
        }
        .sorted { ($0.start, $0.id) < ($1.start, $1.id) }
    }

    /// The part of `interval` (milliseconds, half-open) before `cutOff` (`nil`: all of it); empty, at the interval's
    /// start, when the cut-off is not after it.
    static func available(_ interval: Range<Int64>, before cutOff: Int64?) -> Range<Int64> {
        guard let cutOff else { return interval }
        return interval.lowerBound..<max(interval.lowerBound, min(interval.upperBound, cutOff))
    }

    /// Which conversations an analytics request for an interval returns, as Genesys documents it.
    enum Selection {
        /// Those whose start lies in the interval: what Convoy promises, and what tests expect of it.
        case started
        /// A details job's: "all conversations that had activity during the interval" (started before its
        /// end and ended after its start).
        case activity
        /// A details query's: "only conversations that started on a day touched by the interval" (UTC days).
        case startDay
    }

    /// No mock conversation lasts longer than this (voice: under 30 minutes; messaging: under 70).
    static let longestConversation: Int64 = 2 * 3_600_000

    static let day: Int64 = 86_400_000

    /// The ids that `selection` picks for `interval` (milliseconds, half-open), that exist under `missingPerMille` and
    /// that `filter` accepts, in universe order.
    func conversations(
        in interval: Range<Int64>, selection: Selection = .started, missingPerMille: Int, where filter: (Entry) -> Bool
    ) -> [String] {
        guard !interval.isEmpty else { return [] }
        let starts: Range<Int64>
        switch selection {
        case .started: starts = interval
        case .activity: starts = (interval.lowerBound - Self.longestConversation)..<interval.upperBound
        case .startDay:
            let first = Self.floorDiv(interval.lowerBound, Self.day) * Self.day
            let last = Self.floorDiv(interval.upperBound - 1, Self.day) * Self.day + Self.day
            starts = first..<last
        }
        // Binary search for the first entry at or after the first start that may count.
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].start < starts.lowerBound { low = middle + 1 } else { high = middle }
        }
        var ids: [String] = []
        for entry in entries[low...] {
            guard entry.start < starts.upperBound else { break }
            // A conversation that started before the interval counts for a job while it was still going on.
            if selection == .activity, entry.start < interval.lowerBound,
                ConversationFacts(id: entry.id).end <= interval.lowerBound
            {
                continue
            }
            if MockConversationStore.exists(entry.id, missingPerMille: missingPerMille), filter(entry) {
                ids.append(entry.id)
            }
        }
        return ids
    }

    private static func floorDiv(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : (value - divisor + 1) / divisor
    }
}
