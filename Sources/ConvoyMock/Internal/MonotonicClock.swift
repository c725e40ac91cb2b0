import Glibc

/// Clock readings for the event loop: monotonic for windows and timers, wall time only for epoch headers.
enum MonotonicClock {
    /// Nanoseconds on `CLOCK_MONOTONIC` (arbitrary origin, never jumps).
    static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Unix time in seconds on `CLOCK_REALTIME`.
    static func wallClockSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

/// `nanoseconds` as whole seconds, rounded up (`0` for non-positive input).
func ceilSeconds(_ nanoseconds: Int64) -> Int64 {
    nanoseconds <= 0 ? 0 : (nanoseconds - 1) / 1_000_000_000 + 1
}

extension Duration {
    /// This duration in nanoseconds, clamped to `0...Int64.max`.
    var clampedNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return Int64.max }
        let (total, overflow2) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflow2 ? Int64.max : max(0, total)
    }
}
