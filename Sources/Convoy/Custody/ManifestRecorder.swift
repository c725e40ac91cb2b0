import Foundation
import Glibc

/// Writes a run's manifest line: measures the files before the run (what an earlier run left, and
/// what no manifest covers) and after it, and appends the sealed, chained line.
public struct ManifestRecorder: Sendable {
    public let log: ManifestLog
    /// The output file, or nil when the output is a stream (its figures come from the stream).
    public let outputPath: String?
    public let errorsPath: String
    /// Read every byte of the output before the run, even where the last line's midstate would
    /// let the run go on from it (`fetch --check-output`).
    public var readsWholeOutput = false
    /// What the run found before it started; set by ``measureBefore()``.
    public private(set) var found = RunManifest.Found()
    private var previous: RunManifest?
    /// The output's tally through its last whole line before the run: the run cuts what follows
    /// (a torn line) and only appends, so the figures after it need only the appended bytes read.
    private var outputBefore: FileFingerprint.Tally?

    public init(manifestPath: String, outputPath: String?, errorsPath: String) {
        log = ManifestLog(path: manifestPath)
        self.outputPath = outputPath
        self.errorsPath = errorsPath
    }

    /// Reads the last manifest line and measures the output and errors files against it, before the
    /// run opens them (and cuts a torn line or retries failures). Records in the files that the last
    /// line does not count were written by a run that could not write its own line: a kill.
    ///
    /// The output is read from where the last line's midstate stands, when it has one and the file
    /// is at least that long: the cost of a resume is what the killed run appended, not the whole
    /// file (`convoy verify` reads it all). Otherwise, or with ``readsWholeOutput``, every byte is
    /// read and the prefix the last line recorded is checked.
    /// - Throws: ``ConvoyError/output(_:)`` when the manifest's last line cannot be read.
    public mutating func measureBefore() throws {
        previous = try log.last()?.manifest
        let earlierOutput = previous.flatMap { $0.resumable && names($0.output.path, outputPath) ? $0.output : nil }
        if let outputPath, FileManager.default.fileExists(atPath: outputPath) {
            if !readsWholeOutput, let earlierOutput, let recorded = earlierOutput.tally,
                let size = try? FileManager.default.attributesOfItem(atPath: outputPath)[.size] as? Int64,
                size >= earlierOutput.bytes
            {
                let measured = try FileFingerprint.measure(path: outputPath, continuing: recorded)
                found.outputRecords = measured.whole.fingerprint.lines
                found.previousOutputRead = false
                found.uncoveredOutputRecords = measured.whole.fingerprint.lines - earlierOutput.lines
                outputBefore = measured.throughLastLine
            } else {
                try measureWholeOutput(outputPath, against: earlierOutput)
            }
        }
        if let outputPath, found.uncoveredOutputRecords > 0 {
            // They follow what the last line covers (all of the file when it covers none of it).
            let covered = found.previousOutputIntact == false ? 0 : (earlierOutput?.bytes ?? 0)
            found.unvouchedOutputIDs = try Self.ids(
                in: outputPath, from: covered, skipping: 0, limit: RunManifest.Found.unvouchedIDLimit)
        }
        if FileManager.default.fileExists(atPath: errorsPath) {
            let lines = try FileFingerprint.measure(path: errorsPath).whole.lines
            found.errorRecords = lines
            let earlier = previous.flatMap { names($0.errors.path, errorsPath) ? $0.errors.lines : nil } ?? 0
            found.uncoveredErrorRecords = max(0, lines - earlier)
            if found.uncoveredErrorRecords > 0 {
                found.unvouchedErrorIDs = try Self.ids(
                    in: errorsPath, from: 0, skipping: lines - found.uncoveredErrorRecords,
                    limit: RunManifest.Found.unvouchedIDLimit)
            }
        }
    }

    /// The `id` of each record of `path` from byte `offset` on, after the first `skipping` lines, at
    /// most `limit` of them (a line without one is named by its number).
    private static func ids(in path: String, from offset: Int64, skipping: Int, limit: Int) throws -> [String] {
        var ids: [String] = []
        var line = 0
        try NDJSONFile.forEachLine(atPath: path, from: offset) { bytes in
            line += 1
            guard line > skipping, ids.count < limit else { return }
            let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
            ids.append((object?["id"] as? String) ?? "(a line without an id)")
        }
        return ids
    }

    /// True when `recorded`, a path of an earlier line, names `path`: as this run records it
    /// (relative to the manifest's folder), or as a line written before that rule recorded it.
    private func names(_ recorded: String, _ path: String?) -> Bool {
        guard let path else { return false }
        return recorded == ManifestPath.recorded(path, manifest: log.path) || recorded == path
    }

    /// Reads every byte of the output, checking that it begins with what `earlier` recorded.
    private mutating func measureWholeOutput(_ outputPath: String, against earlierOutput: RunManifest.FileState?) throws
    {
        let measured = try FileFingerprint.measure(
            path: outputPath, prefixes: earlierOutput.map { [$0.bytes] } ?? [])
        found.outputRecords = measured.whole.lines
        outputBefore = measured.throughLastLine
        if let earlierOutput {
            let intact = measured.prefixes[earlierOutput.bytes] == earlierOutput.fingerprint
            found.previousOutputIntact = intact
            found.previousOutputRead = true
            found.uncoveredOutputRecords =
                intact ? measured.whole.lines - earlierOutput.lines : measured.whole.lines
        } else {
            found.uncoveredOutputRecords = measured.whole.lines
        }
    }

    /// What ``OutputStore`` did on opening: torn bytes cut and failures taken back to retry.
    public mutating func noteResume(_ resume: OutputStore.Resume) {
        found.tornBytesCut = resume.truncatedBytes
        found.retriedFailures = resume.retrying
    }

    /// Appends a checkpoint line while the run goes on (outcome ``RunManifest/Outcome/running``):
    /// the files' figures through their last whole line, which are forced to disk before the line
    /// is written, so the line never vouches for bytes a power loss could take. The output is read
    /// from where the last measure stopped. Nothing is written for a streamed output.
    /// - Parameter manifest: the run's account so far; its `found`, `output`, `errors`, `outcome`
    ///   and `previous` are set here.
    public mutating func checkpoint(_ manifest: RunManifest) throws {
        guard let outputPath else { return }
        var manifest = manifest
        manifest.found = found
        manifest.outcome = .running
        let (_, output) = try FileFingerprint.measure(
            path: outputPath, continuing: outputBefore ?? FileFingerprint.Tally())
        let (_, errors) = try FileFingerprint.measure(path: errorsPath, continuing: FileFingerprint.Tally())
        // Measured first, synced next: every byte counted was written before the fsync.
        for path in [outputPath, errorsPath] { try Self.sync(path) }
        manifest.output = RunManifest.FileState(
            path: ManifestPath.recorded(outputPath, manifest: log.path), fingerprint: output.fingerprint,
            sha256State: output.midstate)
        manifest.errors = RunManifest.FileState(
            path: ManifestPath.recorded(errorsPath, manifest: log.path), fingerprint: errors.fingerprint)
        try log.append(manifest)
        outputBefore = output
    }

    /// Forces the file at `path` to disk through a descriptor of its own (fsync reaches every
    /// write to the file, whoever made it).
    private static func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0, fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            if fd >= 0 { _ = close(fd) }
            throw ConvoyError.output("cannot sync \(path): \(reason)")
        }
        _ = close(fd)
    }

    /// Fills in the files' figures after the run and appends the line.
    /// - Parameters:
    ///   - manifest: the run's account; its `found`, `output`, `errors` and `previous` are set here.
    ///   - stream: the figures of a streamed output (nil for a file, which is measured).
    /// - Returns: the manifest as written.
    @discardableResult
    public func record(_ manifest: RunManifest, stream: FileFingerprint?) throws -> RunManifest {
        var manifest = manifest
        manifest.found = found
        if let outputPath {
            let (whole, throughLastLine) = try FileFingerprint.measure(
                path: outputPath, continuing: outputBefore ?? FileFingerprint.Tally())
            // A midstate to go on from only at the end of a whole line: the next run cuts a torn one.
            let endsWithALine = whole.count == throughLastLine.count
            manifest.output = RunManifest.FileState(
                path: ManifestPath.recorded(outputPath, manifest: log.path), fingerprint: whole.fingerprint,
                sha256State: endsWithALine ? whole.midstate : nil)
        } else {
            manifest.output = RunManifest.FileState(path: "-", fingerprint: stream ?? .empty)
        }
        manifest.errors = RunManifest.FileState(
            path: ManifestPath.recorded(errorsPath, manifest: log.path),
            fingerprint: try FileFingerprint.measure(path: errorsPath).whole)
        try log.append(manifest)
        return manifest
    }
}
