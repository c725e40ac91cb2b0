import Foundation

/// Dates in the mock universe's year, as the analytics tests write intervals.
enum AnalyticsDates {
    /// `2026-MM-DDT00:00:00Z` as a `Date`.
    static func day(_ month: Int, _ day: Int) -> Date {
        var components = DateComponents(year: 2026, month: month, day: day)
        components.timeZone = TimeZone(identifier: "UTC")
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: components)!
    }

    /// ISO-8601 with milliseconds, as Genesys intervals are written.
    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
