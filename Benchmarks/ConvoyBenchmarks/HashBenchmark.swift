import Convoy
import ConvoyMock
import Foundation

/// `--sha256 MB`: Convoy's SHA-256 against coreutils' `sha256sum` on the same file, in one run.
///
/// Writes MB megabytes of pseudo-random bytes, then hashes the file alternately with
/// `sha256sum` (a child process) and ``SHA256/hexDigest(ofFileAt:)`` (in this process), `rounds`
/// times each after one warm-up of each (so the file sits in the page cache for both). Reports
/// the median throughput of each and their ratio; the digests must agree.
struct HashBenchmark {
    var megabytes: Int
    var directory: String
    var rounds = 5

    func run() throws -> Double {
        let path = (directory as NSString).appendingPathComponent("sha256-bench.bin")
        try writeFile(path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var ours: [Double] = []
        var theirs: [Double] = []
        for round in 0...rounds {
            var started = ContinuousClock.now
            let reference = try Coreutils.sha256sum(path)
            let referenceSeconds = (ContinuousClock.now - started).seconds
            started = ContinuousClock.now
            let digest = try SHA256.hexDigest(ofFileAt: path).hex
            let oursSeconds = (ContinuousClock.now - started).seconds
            guard digest == reference else {
                throw BenchmarkError("SHA-256 mismatch: Convoy \(digest), sha256sum \(reference)")
            }
            if round == 0 { continue }  // warm-up
            theirs.append(Double(megabytes) / referenceSeconds)
            ours.append(Double(megabytes) / oursSeconds)
        }
        let ratio = median(ours) / median(theirs)
        print("sha256: \(megabytes) MiB file, \(rounds) rounds each after a warm-up, medians")
        print("| hasher | MiB/s (median) | runs |")
        print("|---|---|---|")
        print("| Convoy SHA256 | \(format(median(ours))) | \(ours.map(format).joined(separator: " ")) |")
        print("| sha256sum | \(format(median(theirs))) | \(theirs.map(format).joined(separator: " ")) |")
        print("ratio Convoy ÷ sha256sum: \(String(format: "%.3f", ratio))")
        return ratio
    }

    private func writeFile(_ path: String) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var block = [UInt64](repeating: 0, count: 1 << 17)  // 1 MiB
        for _ in 0..<megabytes {
            for index in block.indices {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                block[index] = state ^ (state >> 29)
            }
            try handle.write(contentsOf: block.withUnsafeBytes { Data($0) })
        }
    }

    private func format(_ value: Double) -> String { String(format: "%.0f", value) }
}
