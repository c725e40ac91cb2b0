/// A log-linear histogram of non-negative integer values (microseconds, here), HdrHistogram-style:
/// constant memory, O(1) recording, and a relative error of at most 1/1024 (three significant
/// digits) at any magnitude.
///
/// Layout: values below 2,048 each have a slot of their own. Above, bucket `b ≥ 1` covers
/// `[2^(10+b), 2^(11+b))` with 1,024 linear slots of width `2^b`, so the slot of `v` is found from
/// its bit length, with no search: `b = bitLength(v) − 11`, `slot = 2,048 + (b − 1)·1,024 +
/// (v >> b) − 1,024`. A value above `highestTrackable` is counted in the last slot (and in `max`).
public struct LatencyHistogram: Sendable, Equatable {
    private static let linear = 2048
    private static let half = 1024
    private var counts: [UInt64]
    /// Values recorded.
    public private(set) var count: UInt64 = 0
    /// Smallest and largest values recorded (exact).
    public private(set) var min: UInt64 = .max
    public private(set) var max: UInt64 = 0
    private var sum: Double = 0

    /// - Parameter highestTrackable: the largest value kept at full precision (default an hour in µs).
    public init(highestTrackable: UInt64 = 3_600_000_000) {
        counts = [UInt64](repeating: 0, count: Self.slot(of: Swift.max(highestTrackable, 2048)) + 1)
    }

    /// Counts `value` once.
    public mutating func record(_ value: UInt64) {
        counts[Swift.min(Self.slot(of: value), counts.count - 1)] += 1
        count += 1
        min = Swift.min(min, value)
        max = Swift.max(max, value)
        sum += Double(value)
    }

    /// Adds every count of `other` (same `highestTrackable`).
    public mutating func merge(_ other: LatencyHistogram) {
        precondition(other.counts.count == counts.count, "histograms of different ranges")
        for index in counts.indices { counts[index] += other.counts[index] }
        count += other.count
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
        sum += other.sum
    }

    /// The mean of the values recorded, 0 when empty.
    public var mean: Double { count == 0 ? 0 : sum / Double(count) }

    /// The value at `percentile` (0–100): the highest value equivalent to the slot holding the
    /// `⌈percentile/100 · count⌉`-th smallest value, never above `max`. 0 when empty.
    public func value(atPercentile percentile: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = Swift.max(1, UInt64((percentile / 100 * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for (slot, slotCount) in counts.enumerated() where slotCount > 0 {
            seen += slotCount
            if seen >= rank { return Swift.min(Self.highestEquivalent(slot), max) }
        }
        return max
    }

    /// The slot that counts `value`.
    static func slot(of value: UInt64) -> Int {
        guard value >= UInt64(linear) else { return Int(value) }
        let bucket = (64 - value.leadingZeroBitCount) - 11
        return linear + (bucket - 1) * half + Int(value >> UInt64(bucket)) - half
    }

    /// The largest value that lands in `slot`.
    static func highestEquivalent(_ slot: Int) -> UInt64 {
        guard slot >= linear else { return UInt64(slot) }
        let bucket = (slot - linear) / half + 1
        let sub = UInt64((slot - linear) % half + half)
        return ((sub + 1) << UInt64(bucket)) - 1
    }
}
