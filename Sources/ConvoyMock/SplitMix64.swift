/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, fast, seedable generator. Deterministic for a given seed,
/// unlike `SystemRandomNumberGenerator`. Not cryptographic. Public so tests can draw reproducible jitter.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private(set) var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in `[0, 1)` built from the top 53 bits.
    mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A uniform integer in `0..<bound` (`bound > 0`).
    mutating func nextInt(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    /// True with probability `probability` (clamped to `0...1`); draws nothing when `probability <= 0`.
    mutating func chance(_ probability: Double) -> Bool {
        guard probability > 0 else { return false }
        return nextUnit() < probability
    }

    /// A random version-4 UUID string in lowercase canonical form.
    mutating func uuidString() -> String {
        UUIDFormatter.string(high: next(), low: next())
    }
}
