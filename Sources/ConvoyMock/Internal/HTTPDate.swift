/// The `Date` header's IMF-fixdate (RFC 9110 §5.6.7), e.g. `Fri, 04 Dec 2026 19:16:00 GMT`, which Genesys's answers
/// carry like any HTTP server's.
enum HTTPDate {
    private static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The IMF-fixdate of `milliseconds` since the Unix epoch (whole seconds, rounded down; years 1970...9999).
    static func string(milliseconds: Int64) -> String {
        // 2026-03-04T05:06:07.089Z: the civil date and time, then the weekday from the day count (1970-01-01 was a
        // Thursday).
        let iso = Array(ConversationDocumentBuilder.timestamp(milliseconds).utf8)
        func part(_ range: Range<Int>) -> String { String(decoding: iso[range], as: UTF8.self) }
        let weekday = weekdays[Int((milliseconds / 86_400_000) % 7)]
        let month = months[Int(part(5..<7))! - 1]
        return "\(weekday), \(part(8..<10)) \(month) \(part(0..<4)) \(part(11..<19)) GMT"
    }

    /// The current wall-clock time's IMF-fixdate.
    static func now() -> String {
        string(milliseconds: Int64((MonotonicClock.wallClockSeconds() * 1000).rounded(.down)))
    }
}
