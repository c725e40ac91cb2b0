import Foundation

/// The reasons of the failures a run appended to its errors file, counted, for the summary's
/// `reasons` lines: what went wrong is said where the run ends, not only in the file.
enum FailureTally {
    /// Bytes read back at most: a run with more failures than this holds names the commonest of
    /// the first ones.
    static let readLimit = 32 << 20

    /// The size of `path` now (0 when it does not exist), to read from once the run ends.
    static func size(of path: String) -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    /// The `reason` of each line from `offset` on, counted, the commonest first (ties by reason).
    static func reasons(in path: String, from offset: UInt64) -> [(reason: String, count: Int)] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: offset)) != nil,
            let data = try? handle.read(upToCount: readLimit), !data.isEmpty
        else { return [] }
        var counts: [String: Int] = [:]
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                let reason = object["reason"] as? String
            else { continue }
            counts[reason, default: 0] += 1
        }
        return counts.map { ($0.key, $0.value) }.sorted { ($0.count, $1.reason) > ($1.count, $0.reason) }
    }
}
