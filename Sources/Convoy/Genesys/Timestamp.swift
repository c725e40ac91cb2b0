import Foundation

/// ISO-8601 instants as the analytics API takes and gives them, in milliseconds since the Unix
/// epoch: parsed with or without fractional seconds, written with milliseconds in UTC
/// (`2026-01-01T00:00:00.000Z`).
enum Timestamp {
    /// Milliseconds since the Unix epoch, or nil when `text` is no ISO-8601 instant.
    static func milliseconds(_ text: Substring) -> Int64? {
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = plain.date(from: String(text)) ?? fractional.date(from: String(text)) else { return nil }
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// `milliseconds` as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    static func text(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
