import Convoy
import Foundation
import Glibc

/// `--scale N,…`: what a job of millions of ids costs one machine.
///
/// For each N, a child writes N random ids and an output of N records of Convoy's shape (about
/// 230 bytes each; real ones are 2–4 KB, which changes the reading and hashing time, not the
/// memory). Then:
/// - **resumed**: `convoy fetch ids --output out` with everything done, as a measured child (wall
///   time, peak RSS), medians of `rounds` after a warm-up, beside `sha256sum out` (reading and
///   hashing the output once, which the custody manifest must do) and `wc -l out`;
/// - **input**: ``IDReader`` over the ids in this process, lines per second (median of `rounds`).
///
/// After the sizes:
/// - **fresh growth**: fresh runs of two sizes against the unlimited mock; the difference of their
///   peaks over the difference of their ids is what one more id costs;
/// - **kill -9**: `killTrials` jobs of 3,000 ids, each killed once its output holds a random
///   number of records (1 to 2,900) and resumed to the end; each must hold every input id exactly
///   once across the output and errors files.
struct ScaleBenchmark {
    var sizes: [Int]
    var directory: String
    var executable: URL
    var rounds = 3
    var killTrials = 20
    /// Measure the fresh-run growth (about 8 minutes: the runs go at the unlimited mock's pace).
    var freshGrowth = true
    var freshSizes = (50_000, 150_000)

    func run() async throws {
        let folder = (directory as NSString).appendingPathComponent("scale-bench")
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        report(
            "| ids | output MiB | resumed wall s (median) | peak RSS MiB (max) | sha256sum s | wc -l s | input ids/s |")
        report("|---|---|---|---|---|---|---|")
        for size in sizes {
            try await resumed(size, folder: folder)
        }
        if freshGrowth { try measureFreshGrowth(folder: folder) }
        try killTrials(folder: folder)
    }

    private func resumed(_ size: Int, folder: String) async throws {
        let ids = (folder as NSString).appendingPathComponent("ids-\(size).txt")
        let out = (folder as NSString).appendingPathComponent("out-\(size).ndjson")
        defer {
            for path in [
                ids, out, out.replacingOccurrences(of: ".ndjson", with: ".errors.ndjson"),
                out.replacingOccurrences(of: ".ndjson", with: ".manifest.ndjson"),
            ] {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
        let generator = try MeasuredProcess.run(
            executable.path, ["--scale-generate", ids, out, "\(size)"], quiet: false)
        guard generator.status == 0 else { throw BenchmarkError("writing the files failed") }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0

        var runs: [MeasuredProcess] = []
        var hashes: [Double] = []
        var counts: [Double] = []
        for round in 0...rounds {
            // Nothing is left to fetch, so no request is made: the API address is never reached.
            let run = try MeasuredProcess.convoy(
                executable.path,
                ["fetch", ids, "--api-base", "http://127.0.0.1:9", "--output", out, "--no-progress"],
                scratch: folder)
            guard run.status == 0 else { throw BenchmarkError("the resumed run exited \(run.status), expected 0") }
            let hash = try MeasuredProcess.run("/usr/bin/sha256sum", [out])
            let count = try MeasuredProcess.run("/usr/bin/wc", ["-l", out])
            if round == 0 { continue }  // warm-up: the page cache, and the manifest's first line
            runs.append(run)
            hashes.append(hash.wallSeconds)
            counts.append(count.wallSeconds)
        }
        var rates: [Double] = []
        for _ in 0..<rounds {
            let started = ContinuousClock.now
            var read = 0
            for try await (_, item) in IDReader(path: ids) {
                if case .id = item { read += 1 }
            }
            guard read == size else { throw BenchmarkError("IDReader read \(read) of \(size) ids") }
            rates.append(Double(size) / (ContinuousClock.now - started).seconds)
        }
        report(
            "| \(size) | \(bytes / 1_048_576) | \(f2(median(runs.map(\.wallSeconds)))) | "
                + "\(f1(runs.compactMap(\.peakMiB).max() ?? 0)) | \(f2(median(hashes))) | \(f2(median(counts))) | "
                + "\(Int(median(rates))) |")
        report("  resumed runs (wall s): " + runs.map { f2($0.wallSeconds) }.joined(separator: " "))
    }

    private func measureFreshGrowth(folder: String) throws {
        let host = try MockHost(executable: executable, arguments: ["--scenario", "unlimited"])
        defer { host.stop() }
        var peaks: [Int: Double] = [:]
        for size in [freshSizes.0, freshSizes.1] {
            let ids = (folder as NSString).appendingPathComponent("fresh-\(size).txt")
            try Self.writeIDs(count: size, seed: UInt64(size), to: ids)
            let out = (folder as NSString).appendingPathComponent("fresh-\(size).ndjson")
            let run = try MeasuredProcess.convoy(
                executable.path,
                [
                    "fetch", ids, "--api-base", host.baseURL.absoluteString, "--output", out, "--concurrency", "32",
                    "--no-progress",
                ], scratch: folder)
            guard run.status == 0 || run.status == 2 else { throw BenchmarkError("the fresh run exited \(run.status)") }
            peaks[size] = run.peakMiB ?? 0
            report("fresh run, \(size) ids: \(f1(run.wallSeconds)) s, peak RSS \(f1(run.peakMiB ?? 0)) MiB")
        }
        // The same two sizes through a bare URLSession loop (one GET an id, nothing kept): what the
        // transport itself grows by.
        var barePeaks: [Int: Double] = [:]
        for size in [freshSizes.0, freshSizes.1] {
            let client = Process()
            client.executableURL = executable
            client.arguments = [
                "--client", "bare", "--scenario", "unlimited", "--ids", "\(size / 10)", "--base",
                host.baseURL.absoluteString, "--deadline", "600",
            ]
            let pipe = Pipe()
            client.standardOutput = pipe
            try client.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            client.waitUntilExit()
            guard let result = try? JSONDecoder().decode(ClientResult.self, from: data) else {
                throw BenchmarkError("the bare loop failed (status \(client.terminationStatus))")
            }
            barePeaks[size] = result.peakRSSMiB
            report("bare URLSession loop, \(size) ids: peak RSS \(f1(result.peakRSSMiB)) MiB")
        }
        func perID(_ peaks: [Int: Double]) -> Double {
            ((peaks[freshSizes.1] ?? 0) - (peaks[freshSizes.0] ?? 0)) * 1_048_576 / Double(freshSizes.1 - freshSizes.0)
        }
        report(
            "fresh run: \(f1(perID(peaks))) bytes of peak RSS per id; the bare URLSession loop: "
                + "\(f1(perID(barePeaks))) (\(freshSizes.0) → \(freshSizes.1) ids)")
    }

    private func killTrials(folder: String) throws {
        let host = try MockHost(executable: executable, arguments: ["--scenario", "unlimited"])
        defer { host.stop() }
        var generator = SystemRandomNumberGenerator()
        var exact = 0
        for trial in 0..<killTrials {
            let trialFolder = (folder as NSString).appendingPathComponent("kill-\(trial + 1)")
            try FileManager.default.createDirectory(atPath: trialFolder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: trialFolder) }
            let ids = (trialFolder as NSString).appendingPathComponent("ids.txt")
            let all = try Self.writeIDs(count: 3000, seed: UInt64(trial), to: ids)
            let out = (trialFolder as NSString).appendingPathComponent("out.ndjson")
            let arguments = [
                executable.path, "--convoy-child", (trialFolder as NSString).appendingPathComponent("peak"), "fetch",
                ids, "--api-base", host.baseURL.absoluteString,
                "--output", out, "--no-progress",
            ]
            let victim = Process()
            victim.executableURL = executable
            victim.arguments = Array(arguments.dropFirst())
            victim.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try victim.run()
            // Killed once the output holds a random number of records (or the run has ended).
            let target = Int.random(in: 1...2900, using: &generator)
            while victim.isRunning, (try? NDJSONFile.countLines(atPath: out)) ?? 0 < target { usleep(2000) }
            kill(victim.processIdentifier, SIGKILL)
            victim.waitUntilExit()
            let killedWith = NDJSONLines.count(out)
            let resume = try MeasuredProcess.run(executable.path, Array(arguments.dropFirst()))
            let output = try NDJSONLines.ids(out)
            let errors = try NDJSONLines.ids(out.replacingOccurrences(of: ".ndjson", with: ".errors.ndjson"))
            let once =
                output.count == Set(output).count && Set(output).isDisjoint(with: errors)
                && Set(output).union(errors) == Set(all) && output.count + errors.count == all.count
            if once { exact += 1 }
            report(
                "kill trial \(trial + 1): killed with \(killedWith) records, resumed (exit \(resume.status)) to "
                    + "\(output.count) + \(errors.count) failed: " + (once ? "exactly once" : "NOT exactly once"))
        }
        report("kill -9: \(exact) of \(killTrials) trials ended exactly once")
    }

    /// Writes `count` random ids, one a line, and returns them.
    @discardableResult
    static func writeIDs(count: Int, seed: UInt64, to path: String) throws -> [String] {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        let ids = (0..<count).map { _ in Self.uuid(&state) }
        let file = try BufferedFile(path: path)
        for id in ids { try file.write(id + "\n") }
        try file.close()
        return ids
    }

    /// The `--scale-generate` child: `count` ids at `idsPath`, and at `outputPath` a record of each
    /// in Convoy's shape (as a finished run leaves them), written as bytes for speed.
    static func generate(idsPath: String, outputPath: String, count: Int) throws {
        let ids = try BufferedFile(path: idsPath)
        let output = try BufferedFile(path: outputPath)
        var state: UInt64 = 0x5CA1E
        for _ in 0..<count {
            let id = uuid(&state)
            let correlation = uuid(&state)
            try ids.write(id + "\n")
            try output.write(
                #"{"id":"\#(id)","fetchedAt":"2026-12-02T06:00:00.000Z","attempts":1,"provenance":{"conversation":"#
                    + #"{"status":200,"correlationId":"\#(correlation)"}},"conversation":{"id":"\#(id)","#
                    + #""startTime":"2026-03-04T05:06:07.089Z","divisions":[]}}"# + "\n")
        }
        try ids.close()
        try output.close()
    }

    /// A random version-4 UUID in lowercase text, from a SplitMix64 state.
    static func uuid(_ state: inout UInt64) -> String {
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let high = next() & 0xFFFF_FFFF_FFFF_0FFF | 0x4000
        let low = next() & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        return ConversationID(key: UUIDTable.Key(high: high, low: low)).description
    }
}

/// Prints `line` at once, even into a file: each row as it is measured.
private func report(_ line: String) {
    print(line)
    fflush(nil)
}

/// Ids read back from an NDJSON file, the way the benchmark checks a run.
enum NDJSONLines {
    static func ids(_ path: String) throws -> [String] {
        var ids: [String] = []
        try NDJSONFile.forEachLine(atPath: path) { line in
            if let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                let id = object["id"] as? String
            {
                ids.append(id)
            }
        }
        return ids
    }

    static func count(_ path: String) -> Int {
        var lines = 0
        try? NDJSONFile.forEachLine(atPath: path) { _ in lines += 1 }
        return lines
    }
}
