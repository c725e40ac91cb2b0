import Foundation

/// What one response says about the server's rate-limit budget, read from whichever header family
/// it uses.
///
/// | family | limit | remaining | reset |
/// |---|---|---|---|
/// | Genesys | `inin-ratelimit-allowed` | allowed − `inin-ratelimit-count` | `inin-ratelimit-reset` (seconds) |
/// | common | `X-RateLimit-Limit` | `X-RateLimit-Remaining` | `X-RateLimit-Reset` (delta or epoch seconds) |
/// | IETF draft | `RateLimit-Policy: "p";q=L;w=W` | `RateLimit: "p";r=R;t=T` | `t` (seconds) |
/// | any | | | `Retry-After` on 429 and 503 (delta seconds or HTTP-date) |
///
/// `X-RateLimit-Reset` is read as epoch seconds when it is larger than ``epochThreshold``
/// (a year of seconds), and as epoch milliseconds above 10¹²; otherwise as delta seconds.
/// The older IETF drafts' `RateLimit-Limit/-Remaining/-Reset` are read like the common family.
/// Negative or contradictory values are dropped rather than trusted.
public struct RateLimitObservation: Sendable, Equatable {
    /// The header family the budget came from.
    public enum Family: String, Sendable {
        case genesys, xRateLimit, ietf
    }

    /// Requests allowed per window.
    public var limit: Int?
    /// Requests left in the current window when the server answered.
    public var remaining: Int?
    /// Time from the answer until the window resets.
    public var resetAfter: Duration?
    /// The window length, when the server states it (IETF `w`).
    public var window: Duration?
    /// How long the server asks every client to wait (429 or 503 `Retry-After`).
    public var retryAfter: Duration?
    /// Which family supplied `limit`/`remaining`/`resetAfter`, or nil when none did.
    public var family: Family?

    /// Delta values above this many seconds are epoch timestamps.
    public static let epochThreshold: Double = 365 * 24 * 3600

    public init(
        limit: Int? = nil, remaining: Int? = nil, resetAfter: Duration? = nil, window: Duration? = nil,
        retryAfter: Duration? = nil, family: Family? = nil
    ) {
        self.limit = limit
        self.remaining = remaining
        self.resetAfter = resetAfter
        self.window = window
        self.retryAfter = retryAfter
        self.family = family
    }

    /// True when the response carried a usable budget: limit, remaining and reset.
    public var hasBudget: Bool { limit != nil && remaining != nil && resetAfter != nil }

    /// Reads every supported header family from one response.
    /// - Parameters:
    ///   - headers: the response headers.
    ///   - status: the HTTP status; `Retry-After` is honoured on 429 and 503 only.
    ///   - now: wall-clock time of the answer, to turn epoch and HTTP-date values into delays.
    public init(headers: HTTPHeaders, status: Int, now: Date = Date()) {
        self.init()
        if status == 429 || status == 503, let value = headers["retry-after"] {
            retryAfter = Self.parseRetryAfter(value, now: now)
        }
        if let allowed = headers["inin-ratelimit-allowed"].flatMap(Int.init),
            let count = headers["inin-ratelimit-count"].flatMap(Int.init),
            let reset = headers["inin-ratelimit-reset"].flatMap(Self.seconds), allowed > 0, count >= 0
        {
            setBudget(limit: allowed, remaining: max(0, allowed - count), reset: reset, family: .genesys)
            return
        }
        if let (policyLimit, policyWindow) = headers["ratelimit-policy"].flatMap(Self.parsePolicy),
            let (remaining, reset) = headers["ratelimit"].flatMap(Self.parseRateLimitField)
        {
            setBudget(limit: policyLimit, remaining: remaining, reset: reset, family: .ietf)
            window = policyWindow
            return
        }
        for prefix in ["x-ratelimit-", "ratelimit-"] {
            if let limit = headers[prefix + "limit"].flatMap(Self.leadingInteger),
                let remaining = headers[prefix + "remaining"].flatMap(Self.leadingInteger),
                let raw = headers[prefix + "reset"].flatMap(Self.seconds), limit > 0
            {
                let reset: Double
                if raw > 1e12 {
                    reset = raw / 1000 - now.timeIntervalSince1970
                } else if raw > Self.epochThreshold {
                    reset = raw - now.timeIntervalSince1970
                } else {
                    reset = raw
                }
                setBudget(
                    limit: limit, remaining: remaining, reset: reset,
                    family: prefix == "ratelimit-" ? .ietf : .xRateLimit)
                return
            }
        }
    }

    private mutating func setBudget(limit: Int, remaining: Int, reset: Double, family: Family) {
        guard limit > 0, remaining >= 0, reset.isFinite, reset >= 0 else { return }
        self.limit = limit
        self.remaining = min(remaining, limit)
        self.resetAfter = .seconds(reset)
        self.family = family
    }

    /// Parses `Retry-After`: delta seconds (`"42"`, also `"1.5"`) or an HTTP-date
    /// (IMF-fixdate, RFC 850 or asctime). A negative number, a date in the past and garbage count as
    /// absent (nil): none of them names a wait, and a client must not read one into it.
    public static func parseRetryAfter(_ value: String, now: Date = Date()) -> Duration? {
        let trimmed = value.trimmingASCIISpaces()
        if let seconds = Double(trimmed) {
            return seconds.isFinite && seconds >= 0 ? .seconds(seconds) : nil
        }
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: trimmed) {
                let seconds = date.timeIntervalSince(now)
                return seconds > 0 ? .seconds(seconds) : nil
            }
        }
        return nil
    }

    /// `"default";q=100;w=60` → (100, 60 s). With several policies, the one allowing the lowest rate.
    static func parsePolicy(_ value: String) -> (Int, Duration)? {
        var best: (limit: Int, window: Double)?
        for item in splitItems(value) {
            guard let q = item["q"].flatMap(leadingInteger), let w = item["w"].flatMap(seconds), q > 0, w > 0
            else { continue }
            if best == nil || Double(q) / w < Double(best!.limit) / best!.window { best = (q, w) }
        }
        return best.map { ($0.limit, .seconds($0.window)) }
    }

    /// `"default";r=50;t=30` → (50, 30). With several items, the one with the least remaining.
    /// Also accepts the draft-07 form `limit=100, remaining=50, reset=30`.
    static func parseRateLimitField(_ value: String) -> (Int, Double)? {
        var best: (remaining: Int, reset: Double)?
        let items = splitItems(value)
        for item in items {
            guard let r = item["r"].flatMap(leadingInteger), let t = item["t"].flatMap(seconds) else { continue }
            if best == nil || r < best!.remaining { best = (r, t) }
        }
        if best == nil {
            let merged = items.reduce(into: [String: String]()) { $0.merge($1) { a, _ in a } }
            if let r = merged["remaining"].flatMap(leadingInteger), let t = merged["reset"].flatMap(seconds) {
                best = (r, t)
            }
        }
        return best.map { ($0.remaining, $0.reset) }
    }

    /// Splits a structured-field list into items, each a map of its `key=value` parameters.
    private static func splitItems(_ value: String) -> [[String: String]] {
        value.split(separator: ",").map { item in
            var parameters: [String: String] = [:]
            for part in item.split(separator: ";") {
                let pieces = part.split(separator: "=", maxSplits: 1)
                guard pieces.count == 2 else { continue }
                let key = String(pieces[0]).trimmingASCIISpaces().lowercased()
                parameters[key] = String(pieces[1]).trimmingASCIISpaces()
            }
            return parameters
        }
    }

    /// A non-negative number of seconds, integer or decimal.
    private static func seconds(_ value: String) -> Double? {
        guard let number = Double(value.trimmingASCIISpaces()), number.isFinite, number >= 0 else { return nil }
        return number
    }

    /// The integer at the start of a value such as `"100"` or `"100, 100;w=60"` (GitHub-style lists).
    private static func leadingInteger(_ value: String) -> Int? {
        Int(value.trimmingASCIISpaces().prefix { $0.isNumber })
    }
}
