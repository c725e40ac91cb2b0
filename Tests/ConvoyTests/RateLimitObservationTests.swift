import Convoy
import Foundation
import Testing

@Suite(.timeLimit(.minutes(1))) struct RateLimitObservationTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let headers: [String: String]
        let status: Int
        let limit: Int?
        let remaining: Int?
        let reset: Double?
        let window: Double?
        let retryAfter: Double?
        let family: RateLimitObservation.Family?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "Genesys",
            headers: ["inin-ratelimit-count": "42", "inin-ratelimit-allowed": "300", "inin-ratelimit-reset": "17"],
            status: 200, limit: 300, remaining: 258, reset: 17, window: nil, retryAfter: nil, family: .genesys),
        Case(
            name: "Genesys, mixed case, count over allowed",
            headers: ["ININ-RateLimit-Count": "301", "ININ-RateLimit-Allowed": "300", "ININ-RateLimit-Reset": "3"],
            status: 429, limit: 300, remaining: 0, reset: 3, window: nil, retryAfter: nil, family: .genesys),
        Case(
            name: "Genesys 429 with Retry-After",
            headers: [
                "inin-ratelimit-count": "300", "inin-ratelimit-allowed": "300", "inin-ratelimit-reset": "42",
                "Retry-After": "42",
            ],
            status: 429, limit: 300, remaining: 0, reset: 42, window: nil, retryAfter: 42, family: .genesys),
        Case(
            name: "X-RateLimit delta seconds",
            headers: ["X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "7", "X-RateLimit-Reset": "1.5"],
            status: 200, limit: 100, remaining: 7, reset: 1.5, window: nil, retryAfter: nil, family: .xRateLimit),
        Case(
            name: "X-RateLimit epoch seconds",
            headers: ["X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999", "X-RateLimit-Reset": "1800000030"],
            status: 200, limit: 5000, remaining: 4999, reset: 30, window: nil, retryAfter: nil, family: .xRateLimit),
        Case(
            name: "X-RateLimit epoch milliseconds",
            headers: ["X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1800000002500"],
            status: 200, limit: 10, remaining: 0, reset: 2.5, window: nil, retryAfter: nil, family: .xRateLimit),
        Case(
            name: "X-RateLimit-Limit with a policy list",
            headers: ["X-RateLimit-Limit": "100, 100;w=60", "X-RateLimit-Remaining": "99", "X-RateLimit-Reset": "60"],
            status: 200, limit: 100, remaining: 99, reset: 60, window: nil, retryAfter: nil, family: .xRateLimit),
        Case(
            name: "IETF structured fields",
            headers: ["RateLimit": "\"default\";r=50;t=30", "RateLimit-Policy": "\"default\";q=100;w=60"],
            status: 200, limit: 100, remaining: 50, reset: 30, window: 60, retryAfter: nil, family: .ietf),
        Case(
            name: "IETF, the most restrictive of two policies",
            headers: [
                "RateLimit": "\"burst\";r=3;t=1, \"day\";r=900;t=3000",
                "RateLimit-Policy": "\"burst\";q=10;w=1, \"day\";q=1000;w=86400",
            ],
            status: 200, limit: 1000, remaining: 3, reset: 1, window: 86400, retryAfter: nil, family: .ietf),
        Case(
            name: "IETF older draft headers",
            headers: ["RateLimit-Limit": "60", "RateLimit-Remaining": "59", "RateLimit-Reset": "58"],
            status: 200, limit: 60, remaining: 59, reset: 58, window: nil, retryAfter: nil, family: .ietf),
        Case(
            name: "only Retry-After (nginx limit_req)", headers: ["Retry-After": "2"],
            status: 429, limit: nil, remaining: nil, reset: nil, window: nil, retryAfter: 2, family: nil),
        Case(
            name: "Retry-After as an HTTP-date", headers: ["Retry-After": "Fri, 15 Jan 2027 08:00:10 GMT"],
            status: 503, limit: nil, remaining: nil, reset: nil, window: nil, retryAfter: 10, family: nil),
        Case(
            name: "Retry-After ignored on a 200", headers: ["Retry-After": "5"],
            status: 200, limit: nil, remaining: nil, reset: nil, window: nil, retryAfter: nil, family: nil),
        Case(
            name: "garbage is dropped, not trusted",
            headers: [
                "inin-ratelimit-count": "x", "inin-ratelimit-allowed": "300", "inin-ratelimit-reset": "-3",
                "Retry-After": "soon",
            ],
            status: 429, limit: nil, remaining: nil, reset: nil, window: nil, retryAfter: nil, family: nil),
        Case(
            name: "negative reset rejected",
            headers: ["X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "7", "X-RateLimit-Reset": "-1"],
            status: 200, limit: nil, remaining: nil, reset: nil, window: nil, retryAfter: nil, family: nil),
    ]

    @Test(arguments: cases)
    func parses(_ testCase: Case) {
        // The HTTP-date case answers at 08:00:00 on its date; the epoch cases at 1.8e9.
        let reference = testCase.name.contains("HTTP-date") ? Self.date("Fri, 15 Jan 2027 08:00:00 GMT") : Self.now
        let observation = RateLimitObservation(
            headers: HTTPHeaders(testCase.headers.map { ($0.key, $0.value) }), status: testCase.status, now: reference)
        #expect(observation.limit == testCase.limit)
        #expect(observation.remaining == testCase.remaining)
        #expect(observation.resetAfter.map(Self.seconds) == testCase.reset)
        #expect(observation.window.map(Self.seconds) == testCase.window)
        #expect(observation.retryAfter.map(Self.seconds) == testCase.retryAfter)
        #expect(observation.family == testCase.family)
    }

    @Test func retryAfterForms() {
        let now = Self.date("Sun, 06 Nov 1994 08:49:30 GMT")
        #expect(RateLimitObservation.parseRetryAfter("120", now: now) == .seconds(120))
        #expect(RateLimitObservation.parseRetryAfter(" 0 ", now: now) == .zero)
        #expect(RateLimitObservation.parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == .seconds(7))
        #expect(RateLimitObservation.parseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now: now) == .seconds(7))
        #expect(RateLimitObservation.parseRetryAfter("Sun Nov  6 08:49:37 1994", now: now) == .seconds(7))
        // A date in the past names no wait: absent, like garbage, not a pause of zero.
        #expect(RateLimitObservation.parseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now: now) == nil)
        #expect(RateLimitObservation.parseRetryAfter("Sun, 06 Nov 1994 08:49:30 GMT", now: now) == nil)
        #expect(RateLimitObservation.parseRetryAfter("-0.5", now: now) == nil)
        #expect(RateLimitObservation.parseRetryAfter("-5", now: now) == nil)
        #expect(RateLimitObservation.parseRetryAfter("later", now: now) == nil)
    }

    /// Seconds, rounded to the millisecond so float noise does not fail a comparison.
    static func seconds(_ duration: Duration) -> Double {
        let exact = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        return (exact * 1000).rounded() / 1000
    }

    static func date(_ text: String) -> Date {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)!
    }
}
