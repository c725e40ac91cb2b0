import Testing

@testable import ConvoyLoad

/// A threshold's verdict shows the measured value in the unit the threshold was written in.
@Suite struct ThresholdTests {
    @Test(arguments: [
        ("http_429_rate<1%", 0.464, "46.4 %"),
        ("http_429_rate<1%", 0.0004, "0.040 %"),
        ("http_req_failed<=0.5", 0.25, "0.250"),
        ("p99<1s", 42.463, "0.042 s"),
        ("p99<500ms", 42.463, "42.5 ms"),
        ("p95<300", 42.463, "42.5 ms"),
        ("rate>=100/s", 99.5, "99.5/s"),
        ("rate>=6000/m", 99.5, "5970.0/m"),
        ("limit>=95/s", 100, "100.0/s"),
        ("dropped==0", 2, "2"),
    ])
    func theMeasuredValueIsShownInTheThresholdsUnit(_ text: String, _ measured: Double, _ shown: String) throws {
        let threshold = try #require(Threshold(text))
        #expect(threshold.display(measured) == shown)
    }

    @Test func aThresholdJudgesInItsBaseUnit() throws {
        let threshold = try #require(Threshold("p99<1s"))
        #expect(threshold.value == 1000 && threshold.unit == "s")
        #expect(threshold.holds(999) && !threshold.holds(1000))
    }
}
