import Foundation
import Glibc

/// The two NDJSON files of a run, and what an earlier run with the same files already did.
///
/// Invariant: every input id ends up in exactly one of the files. On open (a resume):
/// - torn last lines are cut from both files;
/// - ids in the output file are done and will be skipped; the scan reads 1 MiB blocks and takes
///   each id from Convoy's own prefix `{"id":"<36 bytes>",` (a line that ends in `}`), and parses
///   any other line in full, so a record that is not Convoy's is never trusted blindly;
/// - permanent failures in the errors file (404, bad input) are kept and skipped;
/// - retryable failures (429, 5xx, transport) are removed from the errors file, which is rewritten
///   atomically (temp file, fsync, rename, fsync of the folder), and those ids are fetched again.
public final class OutputStore {
    /// What the files held before this run.
    public struct Resume {
        /// Ids already in the output file, unflagged. The engine keeps the run's one id table here:
        /// it flags every id the input names (``UUIDTable/insertFlagging(_:)``), which tells a
        /// duplicate from an id done before in one probe, at 16⅛ bytes a slot.
        public let ids: UUIDTable
        /// Ids in the output file when it was opened.
        public var done = 0
        /// Ids (or raw input text) already in the errors file with a permanent failure.
        public var failed: Set<String> = []
        /// Retryable failures removed from the errors file so they are tried again.
        public var retrying = 0
        /// Bytes of torn lines cut from the two files.
        public var truncatedBytes = 0
        /// Output lines that were not Convoy's own shape and took a full parse.
        public var parsedLines = 0

        init(expectedIDs: Int) {
            ids = UUIDTable(minimumCapacity: expectedIDs, storesValues: false, flags: true)
        }
    }

    public let output: NDJSONFile
    public let errors: NDJSONFile
    public let resume: Resume
    /// Records are synced when one is written at least this long after the last sync, and on exit
    /// (``sync()``): while records keep coming, the most a power loss can take.
    public let syncInterval: Duration
    /// Time since the store opened, on the clock it was given.
    private let elapsed: @Sendable () -> Duration
    private var lastSync: Duration = .zero

    /// Opens (or creates) both files and reads back what an earlier run left.
    /// - Parameters:
    ///   - expectedIDs: how many distinct ids the input may name (an estimate, 0 when unknown): the
    ///     id table is sized once for the larger of this and the output's lines, since a growth
    ///     holds the old slots and the new at once.
    ///   - syncInterval: records are synced when one is written at least this long after the last
    ///     sync (default 1 s), and always by ``sync()`` (the engine calls it on exit and on Ctrl-C).
    ///   - clock: measures the interval; tests pass a manual clock.
    ///   - fileSystem: the system calls behind both files.
    public init(
        outputPath: String, errorsPath: String, expectedIDs: Int = 0, syncInterval: Duration = .seconds(1),
        clock: any Clock<Duration> = ContinuousClock(), fileSystem: any FileSystem = PosixFileSystem()
    ) throws {
        guard outputPath != errorsPath else {
            throw ConvoyError.usage("the output and errors files must differ (both are \(outputPath))")
        }
        self.syncInterval = syncInterval
        self.elapsed = Self.stopwatch(clock)
        let output = try NDJSONFile(path: outputPath, fileSystem: fileSystem)
        var resume = Resume(expectedIDs: max(expectedIDs, try NDJSONFile.estimatedLines(atPath: outputPath)))
        resume.truncatedBytes += output.truncatedBytes
        try NDJSONFile.forEachLine(atPath: outputPath) { line in
            guard let key = Self.recordKey(line, parsed: &resume.parsedLines) else { return }
            if resume.ids.insert(key) { resume.done += 1 }
        }
        let errorsTruncated = try Self.rewriteErrors(atPath: errorsPath, resume: &resume, fileSystem: fileSystem)
        resume.truncatedBytes += errorsTruncated
        self.output = output
        self.errors = try NDJSONFile(path: errorsPath, fileSystem: fileSystem)
        self.resume = resume
    }

    /// Streams records to `descriptor` (standard output, for `--output -`) and failures to the errors
    /// file. A stream cannot be read back, so nothing is resumed from it: every id is fetched.
    public init(
        streamingTo descriptor: Int32, errorsPath: String, syncInterval: Duration = .seconds(1),
        clock: any Clock<Duration> = ContinuousClock(), fileSystem: any FileSystem = PosixFileSystem()
    ) throws {
        self.syncInterval = syncInterval
        self.elapsed = Self.stopwatch(clock)
        var resume = Resume(expectedIDs: 0)
        resume.truncatedBytes = try Self.rewriteErrors(atPath: errorsPath, resume: &resume, fileSystem: fileSystem)
        self.output = NDJSONFile(stream: descriptor, name: "standard output", fileSystem: fileSystem)
        self.errors = try NDJSONFile(path: errorsPath, fileSystem: fileSystem)
        self.resume = resume
    }

    /// Writes a fetched conversation with all its parts.
    public func writeSuccess(id: ConversationID, attempts: Int, parts: [RecordPart], at date: Date = Date()) throws {
        try output.append(RecordEncoder.success(id: id, fetchedAt: date, attempts: attempts, parts: parts))
        try syncIfDue()
    }

    /// Writes a failure.
    public func writeFailure(_ failure: FetchFailure, at date: Date = Date()) throws {
        try errors.append(RecordEncoder.failure(failure, failedAt: date))
        try syncIfDue()
    }

    /// Forces both files to disk.
    public func sync() throws {
        try output.sync()
        try errors.sync()
        lastSync = elapsed()
    }

    /// Syncs when `syncInterval` has passed since the last sync, bounding what a power loss can take.
    private func syncIfDue() throws {
        if elapsed() - lastSync >= syncInterval { try sync() }
    }

    private static func stopwatch<C: Clock<Duration>>(_ clock: C) -> @Sendable () -> Duration {
        let start = clock.now
        return { start.duration(to: clock.now) }
    }

    private static let recordPrefix = Array(#"{"id":""#.utf8)

    /// The id of an output record. Convoy writes `{"id":"<uuid>",` first and ends every record
    /// with `}`, so such a line is read without a parse; any other line is parsed in full (counted
    /// in `parsed`) and its top-level string `id` taken, if it is a UUID.
    static func recordKey(_ line: ArraySlice<UInt8>, parsed: inout Int) -> UUIDTable.Key? {
        let key = line.withUnsafeBytes { line -> UUIDTable.Key? in
            let prefix = recordPrefix.count
            guard line.count > prefix + 37, line.last == UInt8(ascii: "}"),
                line[prefix + 36] == UInt8(ascii: "\""), line[prefix + 37] == UInt8(ascii: ","),
                recordPrefix.withUnsafeBytes({ line.prefix(prefix).elementsEqual($0) })
            else { return nil }
            return UUIDTable.Key(ascii: UnsafeRawBufferPointer(rebasing: line[prefix..<prefix + 36]))
        }
        if let key { return key }
        parsed += 1
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
            let text = object["id"] as? String, let id = ConversationID(text)
        else { return nil }
        return id.key
    }

    /// Keeps permanent failures, drops retryable ones, and returns the torn bytes cut.
    private static func rewriteErrors(
        atPath path: String, resume: inout Resume, fileSystem: any FileSystem
    ) throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        let truncated = try NDJSONFile(path: path, fileSystem: fileSystem).truncatedBytes
        var kept: [ArraySlice<UInt8>] = []
        var dropped = 0
        try NDJSONFile.forEachLine(atPath: path) { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                let id = object["id"] as? String
            else {
                kept.append(line)  // not ours to judge; keep it
                return
            }
            if (object["retryable"] as? Bool) == true {
                dropped += 1
            } else {
                resume.failed.insert(id)
                kept.append(line)
            }
        }
        resume.retrying = dropped
        guard dropped > 0 else { return truncated }
        try AtomicFile.replace(path: path, lines: kept, fileSystem: fileSystem)
        return truncated
    }
}
