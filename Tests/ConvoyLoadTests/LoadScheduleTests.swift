import ConvoyLoad
import Testing

@Suite(.timeLimit(.minutes(1))) struct LoadScheduleTests {
    @Test(arguments: [
        ("500ms", 0.5), ("30s", 30), ("2m", 120), ("1h", 3600), ("1m30s", 90), ("1h2m3.5s", 3723.5),
        ("2s500ms", 2.5), ("45", 45), ("0.25", 0.25),
    ])
    func durationsReadAsK6WritesThem(_ text: String, _ seconds: Double) {
        #expect(LoadSchedule.parseDuration(text) == seconds)
    }

    @Test(arguments: ["", "1x", "m", "1m30", "-1s", "1..5s", "s30"])
    func malformedDurationsAreRefused(_ text: String) {
        #expect(LoadSchedule.parseDuration(text) == nil)
    }

    @Test func aConstantRateSpacesRequestsEvenly() {
        let schedule = LoadSchedule.constant(rate: 100, duration: 2)
        #expect(schedule.dueTime(ofRequest: 0) == 0)
        #expect(abs(schedule.dueTime(ofRequest: 150)! - 1.5) < 1e-9)
        #expect(schedule.dueTime(ofRequest: 199) != nil && schedule.dueTime(ofRequest: 200) == nil, "200 in 2 s")
    }

    @Test func aRampFollowsTheIntegralOfItsRate() {
        // 0 → 100/s over 10 s, then 100/s for 5 s: N(t) = 5t² on the ramp (500 by 10 s), then 100/s.
        let schedule = LoadSchedule(
            .open(startRate: 0, stages: [.init(duration: 10, target: 100), .init(duration: 5, target: 100)]))
        #expect(abs(schedule.dueTime(ofRequest: 125)! - 5) < 1e-9, "N(5) = 125")
        #expect(abs(schedule.dueTime(ofRequest: 500)! - 10) < 1e-9)
        #expect(abs(schedule.dueTime(ofRequest: 750)! - 12.5) < 1e-9)
        #expect(schedule.dueTime(ofRequest: 1000) == nil)
        #expect(schedule.targetRate(at: 2.5) == 25 && schedule.targetRate(at: 12) == 100)
        // A ramp down from 100/s to 0 over 10 s holds 500 requests, the last near its end.
        let down = LoadSchedule(.open(startRate: 100, stages: [.init(duration: 10, target: 0)]))
        #expect(abs(down.dueTime(ofRequest: 375)! - 5) < 1e-9, "100t − 5t² = 375 at t = 5")
        #expect(down.dueTime(ofRequest: 500) == nil)
    }

    @Test func stagesDurationsAndRatesParse() {
        #expect(LoadSchedule.parseStage("30s:100/s") == .init(duration: 30, target: 100))
        #expect(LoadSchedule.parseStage("2m:6000/m") == .init(duration: 120, target: 100))
        #expect(LoadSchedule.parseStage("500ms:7") == .init(duration: 0.5, target: 7))
        for bad in ["30s", "x:1/s", "30s:fast", "-1s:5/s", "0s:5/s"] {
            #expect(LoadSchedule.parseStage(bad) == nil, "\(bad)")
        }
    }

    @Test func thresholdsParseInTheirUnitsAndJudge() throws {
        let p99 = try #require(Threshold("p99<500ms"))
        #expect(p99.metric == "p99" && p99.comparison == .less && p99.value == 500)
        #expect(p99.holds(499.9) && !p99.holds(500))
        #expect(Threshold("p99 <= 1.5s")?.value == 1500)
        let throttled = try #require(Threshold("http_429_rate<1%"))
        #expect(throttled.value == 0.01 && throttled.holds(0.005) && !throttled.holds(0.02))
        let limit = try #require(Threshold("limit>=95/s"))
        #expect(limit.comparison == .greaterOrEqual && limit.value == 95 && limit.holds(95))
        #expect(Threshold("dropped==0")?.holds(0) == true)
        for bad in ["p98<1s", "p99", "p99<fast", "http_429_rate~1%"] { #expect(Threshold(bad) == nil, "\(bad)") }
    }
}
