import Foundation
import Glibc

/// glibc's allocator tuned for a process that handles answers of up to `--max-response-size`.
///
/// By default glibc serves an allocation of 128 KiB or more with `mmap`, but every such block it
/// frees raises that threshold to the block's size (and the trim threshold to twice it), so that
/// after the first 8 MiB answer every later one comes from the heap and, freed, stays resident:
/// 16 connections that each hit the limit once left a run at 261 MiB against the hostile server's
/// endless bodies. Fixing the threshold at 1 MiB turns that adjustment off: a large body is a
/// mapping of its own, backed only by the pages written into it, and returned whole when freed.
enum MemoryTuning {
    /// `M_MMAP_THRESHOLD` from `<malloc.h>`, which the Glibc module does not import.
    private static let mmapThreshold: Int32 = -3

    /// Sets the fixed `mmap` threshold, once; a no-op where `mallopt` cannot be found.
    static func returnLargeBuffersToTheSystem() {
        _ = applied
    }

    private static let applied: Bool = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        return unsafeBitCast(symbol, to: Mallopt.self)(mmapThreshold, 1 << 20) == 1
    }()
}
