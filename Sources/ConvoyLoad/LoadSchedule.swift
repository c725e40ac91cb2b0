/// When a load test sends: an open model (an arrival rate over time, in stages) or a closed one
/// (virtual users that each send again when answered).
///
/// Open model: stages ramp linearly, as k6's `ramping-arrival-rate` does: stage `i` goes from the
/// rate at its start (the previous stage's target, or `startRate`) to its `target` over its
/// `duration`. The k-th request (from 0) is due at the instant `t` where the expected count
/// `N(t) = ∫₀ᵗ rate` reaches `k`; within a stage that is the root of `r₀·τ + (r₁ − r₀)/(2D)·τ² = k'`.
public struct LoadSchedule: Sendable, Equatable {
    /// One stage of an open model: reach `target` requests/s over `duration` seconds.
    public struct Stage: Sendable, Equatable {
        public var duration: Double
        public var target: Double

        public init(duration: Double, target: Double) {
            self.duration = duration
            self.target = target
        }
    }

    public enum Model: Sendable, Equatable {
        case open(startRate: Double, stages: [Stage])
        case closed(users: Int, duration: Double)
    }

    public var model: Model

    public init(_ model: Model) {
        self.model = model
    }

    /// A constant arrival rate for `duration` seconds.
    public static func constant(rate: Double, duration: Double) -> LoadSchedule {
        LoadSchedule(.open(startRate: rate, stages: [Stage(duration: duration, target: rate)]))
    }

    /// The whole duration in seconds.
    public var duration: Double {
        switch model {
        case .open(_, let stages): stages.reduce(0) { $0 + $1.duration }
        case .closed(_, let duration): duration
        }
    }

    /// Seconds from the start at which request `index` (from 0) is due, or nil past the end.
    /// Open model only.
    public func dueTime(ofRequest index: Int) -> Double? {
        guard case .open(let startRate, let stages) = model else { return nil }
        var remaining = Double(index)
        var elapsed = 0.0
        var rate = startRate
        for stage in stages {
            let inStage = (rate + stage.target) / 2 * stage.duration
            if remaining < inStage {
                let slope = (stage.target - rate) / stage.duration
                let tau: Double
                if abs(slope) < 1e-12 {
                    tau = remaining / rate
                } else {
                    // slope/2·τ² + rate·τ − remaining = 0, the root in [0, duration].
                    let discriminant = max(0, rate * rate + 2 * slope * remaining)
                    tau = (discriminant.squareRoot() - rate) / slope
                }
                return elapsed + min(max(tau, 0), stage.duration)
            }
            remaining -= inStage
            elapsed += stage.duration
            rate = stage.target
        }
        return nil
    }

    /// The target rate at `time` seconds (open model), for reports.
    public func targetRate(at time: Double) -> Double {
        guard case .open(let startRate, let stages) = model else { return 0 }
        var elapsed = 0.0
        var rate = startRate
        for stage in stages {
            if time < elapsed + stage.duration {
                return rate + (stage.target - rate) * (time - elapsed) / stage.duration
            }
            elapsed += stage.duration
            rate = stage.target
        }
        return rate
    }

    /// Reads `30s:100/s` (a stage: ramp to 100 requests/s over 30 s). Durations take `ms`, `s`, `m`
    /// or `h`; rates `/s` or `/m`.
    public static func parseStage(_ text: String) -> Stage? {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let duration = parseDuration(parts[0]), duration > 0,
            let rate = parseRate(parts[1])
        else { return nil }
        return Stage(duration: duration, target: rate)
    }

    /// `500ms`, `30s`, `2m`, `1h`, a compound of them as k6 and Go write it (`1m30s`, `1h2m3.5s`),
    /// or a bare number of seconds.
    public static func parseDuration(_ text: String) -> Double? {
        if let value = Double(text) { return value >= 0 && value.isFinite ? value : nil }
        var rest = Substring(text)
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "ms": scale = 0.001
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            default: return nil
            }
            guard let value = Double(number), value.isFinite else { return nil }
            total += value * scale
        }
        return text.isEmpty ? nil : total
    }

    /// `100/s`, `6000/m`, or a bare number per second.
    public static func parseRate(_ text: String) -> Double? {
        var divisor = 1.0
        var number = Substring(text)
        if text.hasSuffix("/s") {
            number = number.dropLast(2)
        } else if text.hasSuffix("/m") {
            divisor = 60
            number = number.dropLast(2)
        }
        guard let value = Double(number), value >= 0, value.isFinite else { return nil }
        return value / divisor
    }
}
