/// Which family of remaining-budget headers the mock sends on every rate-limited (`/api/v2/`) response, 429s included.
///
/// No budget headers are sent when the server has no rate limit (`MockServerConfiguration.rateLimit == nil`).
/// In every family `remaining = limit − count`, where `count` includes the current request when it was admitted
/// (and budget eaten by `externalLoadPerWindow`). For a token bucket `limit` is the capacity, `remaining` is the
/// whole number of tokens left and the "window reset" is the time until the bucket is full again.
public enum MockHeaderFamily: String, Sendable, CaseIterable {
    /// `inin-ratelimit-count` (requests counted in the window, this one included), `inin-ratelimit-allowed` (the
    /// window budget) and `inin-ratelimit-reset` (integer seconds, rounded up, until the window resets).
    case genesys

    /// `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` as *delta* seconds until the reset,
    /// rounded up to the millisecond and written with up to 3 decimals (`"12.5"`, `"60"`).
    case xRateLimit

    /// Like ``xRateLimit`` but `X-RateLimit-Reset` is the wall-clock Unix time (integer seconds, rounded up) of the
    /// reset.
    case xRateLimitEpoch

    /// IETF draft form: `RateLimit: "default";r=REMAINING;t=SECONDS` and
    /// `RateLimit-Policy: "default";q=LIMIT;w=WINDOWSECONDS` (integers; `t` rounded up; for a token bucket
    /// `w = ceil(capacity / refillPerSecond)`).
    case ietf

    /// No budget headers at all; 429s still carry `Retry-After`.
    case none
}

extension MockHeaderFamily {
    /// The budget headers of this family for `snapshot`; `wallClockSeconds` is the current Unix time (epoch family).
    func budgetHeaders(for snapshot: BudgetSnapshot, wallClockSeconds: Double) -> [(name: String, value: String)] {
        switch self {
        case .genesys:
            return [
                ("inin-ratelimit-count", String(snapshot.used)),
                ("inin-ratelimit-allowed", String(snapshot.limit)),
                ("inin-ratelimit-reset", String(ceilSeconds(snapshot.nanosecondsUntilReset))),
            ]
        case .xRateLimit:
            return [
                ("X-RateLimit-Limit", String(snapshot.limit)),
                ("X-RateLimit-Remaining", String(snapshot.remaining)),
                ("X-RateLimit-Reset", Self.millisecondString(snapshot.nanosecondsUntilReset)),
            ]
        case .xRateLimitEpoch:
            let reset = (wallClockSeconds + Double(snapshot.nanosecondsUntilReset) / 1e9).rounded(.up)
            return [
                ("X-RateLimit-Limit", String(snapshot.limit)),
                ("X-RateLimit-Remaining", String(snapshot.remaining)),
                ("X-RateLimit-Reset", String(Int64(reset))),
            ]
        case .ietf:
            let seconds = ceilSeconds(snapshot.nanosecondsUntilReset)
            return [
                ("RateLimit", "\"default\";r=\(snapshot.remaining);t=\(seconds)"),
                ("RateLimit-Policy", "\"default\";q=\(snapshot.limit);w=\(ceilSeconds(snapshot.windowNanoseconds))"),
            ]
        case .none:
            return []
        }
    }

    /// `nanoseconds` rounded up to whole milliseconds, written as seconds with up to 3 decimals and no trailing zeros.
    static func millisecondString(_ nanoseconds: Int64) -> String {
        let milliseconds = (max(0, nanoseconds) + 999_999) / 1_000_000
        let whole = milliseconds / 1000
        let fraction = milliseconds % 1000
        guard fraction != 0 else { return String(whole) }
        var decimals = String(fraction)
        decimals = String(repeating: "0", count: 3 - decimals.count) + decimals
        while decimals.hasSuffix("0") { decimals.removeLast() }
        return "\(whole).\(decimals)"
    }
}
