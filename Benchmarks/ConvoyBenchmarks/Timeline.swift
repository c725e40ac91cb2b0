import Convoy
import Foundation
import Synchronization

/// Per-100 ms counts of what a client did, for the CSV timeline and the SVG chart, plus every
/// request's latency for the percentiles.
final class Timeline: Sendable {
    static let bucket = 0.1

    struct Bucket: Sendable, Codable {
        var sent = 0
        var ok = 0
        var throttled = 0
        var inFlight = 0
        /// The limiter's pace (requests/s) at the end of the bucket, for Convoy.
        var budget: Double?
    }

    private struct State {
        var buckets: [Bucket] = []
        var inFlight = 0
        var latencies: [Double] = []
    }

    private let start = ContinuousClock.now
    private let state = Mutex(State())

    private func index(_ now: ContinuousClock.Instant) -> Int {
        max(0, Int((now - start).seconds / Self.bucket))
    }

    private static func grow(_ buckets: inout [Bucket], to index: Int, inFlight: Int) {
        while buckets.count <= index { buckets.append(Bucket(inFlight: inFlight)) }
    }

    func sent() {
        let i = index(.now)
        state.withLock { state in
            Self.grow(&state.buckets, to: i, inFlight: state.inFlight)
            state.inFlight += 1
            state.buckets[i].sent += 1
            state.buckets[i].inFlight = max(state.buckets[i].inFlight, state.inFlight)
        }
    }

    func answered(status: Int?, latency: Double) {
        let i = index(.now)
        state.withLock { state in
            Self.grow(&state.buckets, to: i, inFlight: state.inFlight)
            state.inFlight -= 1
            if let status, (200..<300).contains(status) { state.buckets[i].ok += 1 }
            if status == 429 { state.buckets[i].throttled += 1 }
            state.latencies.append(latency)
        }
    }

    func budget(_ rate: Double) {
        let i = index(.now)
        state.withLock { state in
            Self.grow(&state.buckets, to: i, inFlight: state.inFlight)
            state.buckets[i].budget = rate
        }
    }

    var buckets: [Bucket] { state.withLock { $0.buckets } }

    /// Latency percentiles in milliseconds (p50, p90, p99).
    var percentiles: [Double] {
        let sorted = state.withLock { $0.latencies }.sorted()
        guard !sorted.isEmpty else { return [0, 0, 0] }
        return [0.5, 0.9, 0.99].map { sorted[min(sorted.count - 1, Int(Double(sorted.count) * $0))] * 1000 }
    }

    static func csv(_ buckets: [Bucket]) -> String {
        var text = "t_seconds,sent,ok,throttled,in_flight,budget_per_second\n"
        for (i, b) in buckets.enumerated() {
            text += String(format: "%.1f", Double(i) * bucket)
            text +=
                ",\(b.sent),\(b.ok),\(b.throttled),\(b.inFlight),\(b.budget.map { String(format: "%.1f", $0) } ?? "")\n"
        }
        return text
    }
}
