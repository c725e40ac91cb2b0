import Convoy
import ConvoyMock
import Foundation

/// `--analytics N`: `convoy fetch --include conversation,analytics` over N mock ids, with analytics
/// in batches of 100 and, as the baseline, one per id (`--analytics-batch 1`). The mock runs in this
/// process with Genesys's headers and a limit of `limit` per second; each fetch is a child process.
///
/// Reports, per run: requests the mock counted per conversation fetched, 429s, wall time, and how
/// many records' `analytics` are byte-identical to the mock's per-id document (all must be).
struct AnalyticsBenchmark {
    var ids: Int
    var limit: Int
    var directory: String
    var executable: URL

    func run() throws {
        let folder = (directory as NSString).appendingPathComponent("analytics-bench")
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let idsPath = (folder as NSString).appendingPathComponent("ids.txt")
        let sample = MockConversationStore.sampleIDs(count: ids, seed: 3)
        try Data((sample.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: idsPath))
        print("analytics: \(ids) ids, --include conversation,analytics, limit \(limit)/s (Genesys headers), 20 ms\n")
        print(
            "| analytics batch | requests | requests ÷ conversation | 429s | wall s | records | analytics identical |")
        print("|---|---|---|---|---|---|---|")
        for batch in [100, 1] {
            var configuration = MockServerConfiguration(
                rateLimit: .fixedWindow(limit: limit, window: .seconds(1)), latency: .fixed(.milliseconds(20)))
            configuration.missingPerMille = 0
            let server = try MockAPIServer.start(configuration)
            defer { server.shutdown() }
            let output = (folder as NSString).appendingPathComponent("out-\(batch).ndjson")
            let run = try MeasuredProcess.convoy(
                executable.path,
                [
                    "fetch", idsPath, "--api-base", server.baseURL.absoluteString, "--include",
                    "conversation,analytics", "--analytics-batch", "\(batch)", "--output", output, "--no-progress",
                ], scratch: folder)
            let counters = server.counters()
            let (records, identical) = try Self.compare(output)
            let requests = counters.requestsByPath.values.reduce(0, +)
            print(
                "| \(batch) | \(requests) | \(String(format: "%.3f", Double(requests) / Double(max(records, 1)))) | "
                    + "\(counters.tooManyRequests) | \(f1(run.wallSeconds)) | \(records) | \(identical) |")
            guard run.status == 0, records == ids, identical == records else {
                throw BenchmarkError(
                    "the batch-\(batch) run exited \(run.status) with \(identical)/\(records) identical")
            }
        }
    }

    /// Records in `output`, and how many hold the mock's per-id analytics document byte for byte.
    static func compare(_ output: String) throws -> (records: Int, identical: Int) {
        var records = 0
        var identical = 0
        try NDJSONFile.forEachLine(atPath: output) { line in
            records += 1
            let text = String(decoding: line, as: UTF8.self)
            let id = String(text.dropFirst(7).prefix(36))
            let expected =
                #","analytics":"# + String(decoding: MockConversationStore.analyticsDocument(id: id), as: UTF8.self)
                + "}"
            if text.hasSuffix(expected) { identical += 1 }
        }
        return (records, identical)
    }
}
