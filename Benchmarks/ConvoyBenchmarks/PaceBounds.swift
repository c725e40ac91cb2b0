/// What `--smoke` demands of Convoy's pace on each limited profile: goodput at least
/// `minimumGoodput` of the limit (the limiter is not too slow) and at most `maximumThrottledShare`
/// of its requests answered 429 (not too fast).
///
/// The bounds are loose on purpose. A smoke run is a few seconds on a shared 2-core machine, where
/// ramp-up and noise move goodput by ±0.1; the bounds catch a limiter that is broken (one that
/// ignores the headers draws 8–14 % 429s, like the SDK-style baseline; one twice too cautious scores
/// about 0.5), never a run that is merely unlucky. The full run's figures are in BENCHMARKS.md.
struct PaceBounds {
    let minimumGoodput: Double
    let maximumThrottledShare: Double
    /// Where absolute bounds cannot tell a broken limiter from a working one (without headers, the
    /// SDK-style baseline also keeps 20 %), Convoy's 429s must also stay below this share of the
    /// baseline's in the same run: one that ignores 429s draws at least as many.
    var maximumThrottledVersusBaseline: Double?

    /// The bounds for a scenario, or nil where pace is not judged (the unlimited profile).
    static func forScenario(_ name: String) -> PaceBounds? {
        switch name {
        case "genesys", "bucket", "shared", "lognormal", "faults", "short-token", "small-job", "five-windows":
            PaceBounds(minimumGoodput: 0.75, maximumThrottledShare: 0.02)
        case "shared-token-2", "shared-token-4":
            // Each process ramps up on its own and learns the others' pace over a window or two: a
            // quick run (three 1 s windows) is mostly that; quick runs measured 0.96–1.01 on
            // 2026-12-04, long runs 0.985 and more. A limiter at half speed scores about 0.5.
            PaceBounds(minimumGoodput: 0.7, maximumThrottledShare: 0.05)
        case "halving", "longtail":
            // A limit that halves mid-run costs a 429 or two; a 1 s tail is a third of a quick run.
            PaceBounds(minimumGoodput: 0.6, maximumThrottledShare: 0.03)
        case "429-only", "leaky":
            // Without budget headers the limit is found by its 429s, and a quick run is mostly that
            // search; the baseline keeps these bounds too, so Convoy must also draw fewer 429s than it.
            PaceBounds(minimumGoodput: 0.6, maximumThrottledShare: 0.2, maximumThrottledVersusBaseline: 0.9)
        default:
            nil
        }
    }

    /// Why `row` breaks the bounds, `baseline` being the SDK-style row of the same run; empty when
    /// it keeps them.
    func violations(_ row: ResultRow, baseline: ResultRow? = nil) -> [String] {
        var found: [String] = []
        if let factor = maximumThrottledVersusBaseline, let baseline,
            Double(row.result.throttled) > factor * Double(baseline.result.throttled)
        {
            found.append(
                "\(row.scenario): \(row.result.throttled) 429s, not fewer than \(factor) × the SDK-style baseline's "
                    + "\(baseline.result.throttled): the limiter does not learn from its 429s")
        }
        if let goodput = row.goodputOverLimit, goodput < minimumGoodput {
            found.append("\(row.scenario): goodput \(goodput) below \(minimumGoodput): the limiter is too slow")
        }
        if row.throttledShare > maximumThrottledShare {
            found.append(
                "\(row.scenario): \(row.throttledShare * 100) % 429s above \(maximumThrottledShare * 100) %: "
                    + "the limiter is too fast")
        }
        return found
    }
}
