import ConvoyMock
import Testing

@testable import ConvoyLoad

@Suite(.timeLimit(.minutes(1))) struct LatencyHistogramTests {
    /// The exact percentile of `values`, by the same rank rule.
    static func exact(_ sorted: [UInt64], _ percentile: Double) -> UInt64 {
        let rank = max(1, Int((percentile / 100 * Double(sorted.count)).rounded(.up)))
        return sorted[rank - 1]
    }

    @Test func percentilesStayWithinAThousandthAtEveryMagnitude() {
        var random = SplitMix64(seed: 9)
        var histogram = LatencyHistogram()
        var values: [UInt64] = []
        for _ in 0..<50_000 {
            // Log-uniform from 1 µs to about 20 min: every bucket gets values.
            let exponent = Double(random.next() % 1_000_000) / 1_000_000 * 30
            let value = UInt64(pow2(exponent))
            values.append(value)
            histogram.record(value)
        }
        values.sort()
        for percentile in [1.0, 10, 50, 90, 99, 99.9, 99.99, 100] {
            let truth = Self.exact(values, percentile)
            let reported = histogram.value(atPercentile: percentile)
            #expect(reported >= truth, "p\(percentile): never below the true value")
            #expect(Double(reported - truth) <= Double(truth) / 1024, "p\(percentile): \(reported) vs \(truth)")
        }
        #expect(histogram.count == 50_000 && histogram.max == values.last && histogram.min == values.first)
    }

    @Test func smallValuesAreExactAndSlotsTileTheRange() {
        var histogram = LatencyHistogram()
        for value in UInt64(0)..<2048 { histogram.record(value) }
        #expect(histogram.value(atPercentile: 50) == 1023)
        #expect(histogram.value(atPercentile: 100) == 2047)
        // Every value maps to a slot whose range holds it, and slots follow one another without gaps.
        var previousHigh: UInt64?
        for slot in 0..<(2048 + 5 * 1024) {
            let high = LatencyHistogram.highestEquivalent(slot)
            if let previousHigh { #expect(LatencyHistogram.slot(of: previousHigh + 1) == slot) }
            #expect(LatencyHistogram.slot(of: high) == slot)
            previousHigh = high
        }
    }

    @Test func aRankThatIsNotWholeRoundsUp() {
        // Rank ⌈p/100 · n⌉: p99 of 10 values is the 10th (9.9 → 10), the largest, not the 9th.
        // p91 (9.1) tells rounding up from rounding to nearest, p40 of 3 (1.2) as well, and p10 of 3
        // (0.3) is still the smallest: rank 1, not 0.
        var ten = LatencyHistogram()
        for value in UInt64(1)...10 { ten.record(value * 100) }
        #expect(ten.value(atPercentile: 99) == 1000)
        #expect(ten.value(atPercentile: 91) == 1000)
        #expect(ten.value(atPercentile: 90) == 900, "a whole rank: the 9th")
        #expect(ten.value(atPercentile: 25) == 300)
        var three = LatencyHistogram()
        for value in [UInt64(10), 20, 30] { three.record(value) }
        #expect(three.value(atPercentile: 40) == 20)
        #expect(three.value(atPercentile: 10) == 10)
        #expect(three.value(atPercentile: 99.9) == 30)
    }

    @Test func theSummaryReportsP99OfTenAnswersAsTheSlowest() {
        // Ten answers, 10 ms to 100 ms after their due time: p99 in the summary is the slowest.
        let samples = (1...10).map { k in
            LoadSample(intended: 0, sent: 0, answered: Double(k) / 100, status: 200)
        }
        let summary = LoadSummary(samples: samples, dropped: [], elapsed: 1, schedule: nil)
        #expect(summary.latency.p99 == 100 && summary.latency.max == 100)
        #expect(summary.latency.p95 == 100, "rank 9.5 is the 10th as well")
        #expect(summary.latencyFromSend.p99 == 100)
    }

    @Test func mergingAddsCounts() {
        var a = LatencyHistogram()
        var b = LatencyHistogram()
        for value in [UInt64(5), 5_000, 5_000_000] { a.record(value) }
        b.record(7)
        a.merge(b)
        #expect(a.count == 4 && a.min == 5 && a.max == 5_000_000)
        #expect(a.value(atPercentile: 50) == 7)
    }

    private func pow2(_ exponent: Double) -> Double {
        var result = 1.0
        var e = exponent
        while e >= 1 {
            result *= 2
            e -= 1
        }
        return result * (1 + e * 0.693_147 + e * e * 0.240_227)  // 2^e for e in [0, 1), to 0.2 %
    }
}
