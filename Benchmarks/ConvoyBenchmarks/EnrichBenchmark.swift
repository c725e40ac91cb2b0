import Convoy
import ConvoyMock
import Foundation

/// `--enrich N`: `convoy enrich` over N records and an export of the same ids plus 1 % more that
/// were never fetched, spread over `files` export files. Each run is a child process, measured by
/// ``MeasuredProcess`` (wall time, peak RSS); `wc -l` over the same bytes is the floor for reading
/// them once. Reports medians of `rounds` runs after a warm-up.
///
/// Records are shaped like Convoy's own (id first, provenance, a conversation with every default
/// field), about 560 bytes each; real ones are 2–4 KB, which changes the reading time, not the
/// memory (nothing of a record is kept).
struct EnrichBenchmark {
    var records: Int
    var files: Int
    var directory: String
    var executable: URL
    var rounds = 3

    func run() throws {
        let folder = (directory as NSString).appendingPathComponent("enrich-bench")
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let recordsPath = (folder as NSString).appendingPathComponent("records.ndjson")
        let export = (folder as NSString).appendingPathComponent("export")
        // A child writes the files, so that this process stays small: a child's peak RSS as wait4
        // reports it is at least its parent's at the moment it was spawned.
        let generator = try MeasuredProcess.run(
            executable.path, ["--enrich-generate", folder, "\(records)", "\(files)"], quiet: false)
        guard generator.status == 0 else { throw BenchmarkError("writing the files failed") }
        let recordBytes = (try? FileManager.default.attributesOfItem(atPath: recordsPath)[.size] as? Int) ?? 0
        print(
            "enrich: \(records) records (\(recordBytes / 1_048_576) MiB), an export of \(records + records / 100) ids "
                + "in \(files) files; written in \(f1(generator.wallSeconds)) s")

        let script = (folder as NSString).appendingPathComponent("naive_join.py")
        try Self.naiveJoin.write(toFile: script, atomically: true, encoding: .utf8)
        var runs: [MeasuredProcess] = []
        var naive: [MeasuredProcess] = []
        for round in 0...rounds {
            let out = (folder as NSString).appendingPathComponent("out-\(round)")
            let run = try MeasuredProcess.convoy(
                executable.path, ["enrich", export, "--records", recordsPath, "--out", out, "--no-progress"],
                scratch: folder)
            guard run.status == 2 else {
                throw BenchmarkError("enrich exited \(run.status), expected 2 (1 % unfetched)")
            }
            try? FileManager.default.removeItem(atPath: out)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let peakFile = out + ".peak"
            var script = try MeasuredProcess.run("/usr/bin/python3", [script, recordsPath, export, out, peakFile])
            guard script.status == 0 else { throw BenchmarkError("the Python join failed (\(script.status))") }
            script.peakMiB = (try? String(contentsOfFile: peakFile, encoding: .utf8)).flatMap(Double.init).map {
                $0 / 1024
            }
            try? FileManager.default.removeItem(atPath: out)
            if round == 0 { continue }  // warm-up: the page cache
            runs.append(run)
            naive.append(script)
        }
        print("| run | wall s (median) | peak RSS MiB (max) | runs (wall s) |")
        print("|---|---|---|---|")
        for (name, measured) in [("convoy enrich", runs), ("Python dict join (sidecars only)", naive)] {
            print(
                "| \(name) | \(f2(median(measured.map(\.wallSeconds)))) | \(f1(measured.compactMap(\.peakMiB).max() ?? 0)) | "
                    + measured.map { f2($0.wallSeconds) }.joined(separator: " ") + " |")
        }
        let ratio = (runs.compactMap(\.peakMiB).max() ?? 0) / max(1, naive.compactMap(\.peakMiB).max() ?? 1)
        print(
            "ids per second: \(Int(Double(records + records / 100) / median(runs.map(\.wallSeconds)))); "
                + "peak RSS convoy ÷ Python: \(String(format: "%.3f", ratio))")
    }

    /// What a user writes today: every record in a dict by id, then a sidecar per export file (no
    /// field report, no hashing, no manifest). Records its own peak RSS (`VmHWM`) like a
    /// `--convoy-child`.
    static let naiveJoin = """
        import json, os, sys
        records, export, out, peak = sys.argv[1:5]
        index = {}
        with open(records, "rb") as lines:
            for line in lines:
                index.setdefault(json.loads(line)["id"], line)
        for root, _, files in os.walk(export):
            for name in sorted(files):
                ids, seen = [], set()
                with open(os.path.join(root, name), "rb") as lines:
                    for line in lines:
                        conversation = json.loads(line)["conversationId"]
                        if conversation not in seen:
                            seen.add(conversation)
                            ids.append(conversation)
                with open(os.path.join(out, name + ".recovered.ndjson"), "wb") as sidecar:
                    for conversation in ids:
                        if conversation in index:
                            sidecar.write(index[conversation])
        with open("/proc/self/status") as status:
            hwm = next(line for line in status if line.startswith("VmHWM:")).split()[1]
        with open(peak, "w") as file:
            file.write(hwm)

        """

    /// Writes `folder/records.ndjson` and `folder/export/` (in the `--enrich-generate` child).
    static func generate(folder: String, records: Int, files: Int) throws {
        let recordsPath = (folder as NSString).appendingPathComponent("records.ndjson")
        let export = (folder as NSString).appendingPathComponent("export")
        try FileManager.default.createDirectory(atPath: export, withIntermediateDirectories: true)
        let ids = MockConversationStore.sampleIDs(count: records + records / 100, seed: 77)
        let recordsFile = try BufferedFile(path: recordsPath)
        for (index, id) in ids.prefix(records).enumerated() {
            var line = #"{"id":"ID","fetchedAt":"2026-11-25T00:00:00.000Z","attempts":1,"#
            line += #""provenance":{"conversation":{"status":200,"correlationId":"CORRELATION"}},"#
            line += #""conversation":{"id":"ID","externalTag":"CRM-N","startTime":"2026-03-04T05:06:07.089Z","#
            line += #""endTime":"2026-03-04T05:16:07.089Z","participants":[{"purpose":"customer","attributes":"#
            line += #"{"legal_hold":"HOLD","language":"en-us"}},{"purpose":"agent","#
            line += #""wrapup":{"code":"Billing","durationSeconds":12}}],"recordingState":"ACTIVE","#
            line += #""divisions":[{"division":{"id":"0b1c9c1e-7c1e-4b8e-9d5e-0a1b2c3d4e5f"}}]}}"# + "\n"
            line = line.replacingOccurrences(of: "CORRELATION", with: ids[(index + 1) % ids.count])
                .replacingOccurrences(of: "ID", with: id).replacingOccurrences(of: "CRM-N", with: "CRM-\(index)")
                .replacingOccurrences(of: "HOLD", with: index % 10 == 0 ? "true" : "false")
            try recordsFile.write(line)
        }
        try recordsFile.close()
        let perFile = (ids.count + files - 1) / files
        for file in 0..<files {
            let path = String(format: "%@/part-%05d.ndjson", export, file + 1)
            let out = try BufferedFile(path: path)
            for id in ids[min(ids.count, file * perFile)..<min(ids.count, (file + 1) * perFile)] {
                try out.write(#"{"conversationId":"\#(id)","channel":"whatsapp","text":"hello"}"# + "\n")
            }
            try out.close()
        }
    }

}

/// A file written through a 1 MiB buffer.
final class BufferedFile {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private(set) var written = 0

    init(path: String) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        written += text.utf8.count
        if buffer.count >= 1 << 20 { try flush() }
    }

    func close() throws {
        try flush()
        try handle.close()
    }

    private func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
