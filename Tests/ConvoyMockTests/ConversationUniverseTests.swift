import Foundation
import Testing

@testable import ConvoyMock

/// Which conversations the mock's analytics return for an interval, as Genesys's models document:
/// a job by activity, a query by the UTC days the interval touches.
@Suite(.timeLimit(.minutes(1))) struct ConversationUniverseTests {
    static let universe = ConversationUniverse(size: 3000)
    static let day: Int64 = 86_400_000

    static func started(in interval: Range<Int64>) -> Set<String> {
        Set(universe.entries.filter { interval.contains($0.start) }.map(\.id))
    }

    @Test func aJobReturnsEveryConversationActiveInTheInterval() throws {
        // An interval that opens a minute into a conversation that lasts longer than that.
        let straddler = try #require(
            Self.universe.entries.first {
                ConversationFacts(id: $0.id).end - $0.start > 120_000 && $0.start > 40 * Self.day
            })
        let interval = (straddler.start + 60_000)..<(straddler.start + 3 * Self.day)
        let job = Set(Self.universe.conversations(in: interval, selection: .activity, missingPerMille: 0) { _ in true })
        #expect(job.contains(straddler.id), "started before, still going on: activity in the interval")
        #expect(job.isSuperset(of: Self.started(in: interval)))
        for id in job.subtracting(Self.started(in: interval)) {
            let facts = ConversationFacts(id: id)
            #expect(facts.start < interval.lowerBound && facts.end > interval.lowerBound, "\(id) was active in it")
        }
        #expect(
            Self.universe.conversations(
                in: interval.lowerBound..<interval.lowerBound, selection: .activity, missingPerMille: 0
            ) { _ in true }.isEmpty)
    }

    @Test func aQueryReturnsTheWholeUTCDaysTheIntervalTouches() {
        let midnight = Self.universe.entries[1500].start / Self.day * Self.day
        let interval = (midnight + 10 * 3_600_000)..<(midnight + Self.day + 2 * 3_600_000)  // 10:00 to 02:00 next day
        let query = Set(
            Self.universe.conversations(in: interval, selection: .startDay, missingPerMille: 0) { _ in true })
        #expect(query == Self.started(in: midnight..<(midnight + 2 * Self.day)), "both days, whole")
        #expect(query.count > Self.started(in: interval).count)
    }
}
