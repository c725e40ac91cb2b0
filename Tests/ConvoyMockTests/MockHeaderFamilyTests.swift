import Testing

@testable import ConvoyMock

@Suite("MockHeaderFamily rendering", .timeLimit(.minutes(1)))
struct MockHeaderFamilyTests {
    private let snapshot = BudgetSnapshot(
        limit: 300, used: 42, remaining: 258, nanosecondsUntilReset: 12_345_100_000, windowNanoseconds: 60_000_000_000)

    private func headers(_ family: MockHeaderFamily) -> [String: String] {
        Dictionary(
            uniqueKeysWithValues: family.budgetHeaders(for: snapshot, wallClockSeconds: 1_800_000_000.5)
                .map { ($0.name, $0.value) })
    }

    @Test func genesys() {
        #expect(
            headers(.genesys) == [
                "inin-ratelimit-count": "42", "inin-ratelimit-allowed": "300", "inin-ratelimit-reset": "13",
            ])
    }

    @Test func xRateLimit() {
        #expect(
            headers(.xRateLimit) == [
                "X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "258", "X-RateLimit-Reset": "12.346",
            ])
        #expect(headers(.xRateLimitEpoch)["X-RateLimit-Reset"] == "1800000013")  // 1_800_000_012.8451 rounded up
    }

    @Test func ietf() {
        #expect(
            headers(.ietf) == ["RateLimit": "\"default\";r=258;t=13", "RateLimit-Policy": "\"default\";q=300;w=60"])
    }

    @Test func none() {
        #expect(headers(.none).isEmpty)
    }

    @Test("delta seconds keep at most 3 decimals and no trailing zeros")
    func millisecondString() {
        #expect(MockHeaderFamily.millisecondString(60_000_000_000) == "60")
        #expect(MockHeaderFamily.millisecondString(12_500_000_000) == "12.5")
        #expect(MockHeaderFamily.millisecondString(1) == "0.001")
        #expect(MockHeaderFamily.millisecondString(1_020_000_000) == "1.02")
        #expect(MockHeaderFamily.millisecondString(0) == "0")
    }
}
