import Foundation

/// The median of `values` (the mean of the middle two for an even count; 0 for none).
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// `value` with one decimal.
func f1(_ value: Double) -> String { String(format: "%.1f", value) }
/// `value` with two decimals.
func f2(_ value: Double) -> String { String(format: "%.2f", value) }
