import Foundation

/// Injected response latency, sampled per response from the server's seeded PRNG.
///
/// The delay is applied *after* rate limiting (which happens at arrival) and never blocks the event loop: the
/// response is scheduled on a timer at `arrival + delay` (millisecond timer resolution, rounded up). Responses on
/// one keep-alive connection still leave in request order, so a later response can wait for an earlier one.
/// Samples are clamped to `0...1 hour`.
public enum MockLatency: Sendable, Equatable {
    /// Answer as soon as possible.
    case none
    /// Always this delay.
    case fixed(Duration)
    /// Uniform in `[lower, upper)` (the bounds may be given in either order).
    case uniform(Duration, Duration)
    /// `median · exp(sigma · Z)` with `Z` standard normal (Box–Muller), so half the samples are below `median`.
    case logNormal(median: Duration, sigma: Double)
    /// `base`, or `base + tail` with probability `tailProbability`.
    case longTail(base: Duration, tailProbability: Double, tail: Duration)
}

extension MockLatency {
    /// Upper clamp of every sample: one hour.
    static let maximumNanoseconds: Int64 = 3_600_000_000_000

    /// One delay in nanoseconds, in `0...maximumNanoseconds`.
    func sampleNanoseconds(using generator: inout SplitMix64) -> Int64 {
        let sample: Double
        switch self {
        case .none:
            return 0
        case .fixed(let delay):
            sample = Double(delay.clampedNanoseconds)
        case .uniform(let first, let second):
            let lower = Double(min(first, second).clampedNanoseconds)
            let upper = Double(max(first, second).clampedNanoseconds)
            sample = lower + (upper - lower) * generator.nextUnit()
        case .logNormal(let median, let sigma):
            // Box–Muller; 1 − u keeps the logarithm's argument in (0, 1].
            let radius = (-2 * Foundation.log(1 - generator.nextUnit())).squareRoot()
            let normal = radius * Foundation.cos(2 * Double.pi * generator.nextUnit())
            sample = Double(median.clampedNanoseconds) * Foundation.exp(sigma * normal)
        case .longTail(let base, let tailProbability, let tail):
            let hit = generator.nextUnit() < tailProbability
            sample = Double(base.clampedNanoseconds) + (hit ? Double(tail.clampedNanoseconds) : 0)
        }
        guard sample.isFinite else { return Self.maximumNanoseconds }
        return Int64(min(max(sample, 0), Double(Self.maximumNanoseconds)))
    }
}
