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
