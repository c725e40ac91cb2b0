import Foundation

/// One run's account of itself: one line of `<output>.manifest.ndjson`, appended (and synced) when
/// the run ends, is interrupted, or stops on an error. Sealed and chained as ``SealedManifest``
/// says.
public struct RunManifest: SealedManifest, Sendable, Equatable {
    /// The version of this format.
    public var format = 1
    /// `convoy <version>`.
    public var tool: String
    /// The command line, secrets replaced by `<redacted>`.
    public var command: [String]
    /// The API root the records came from.
    public var apiBase: String
    /// The OAuth client that fetched them (never its secret); nil with a ready token or none.
    public var oauthClientId: String?
    /// Who ran it: the user name of the process (the operator, for custody); nil in lines written
    /// before it was recorded.
    public var user: String? = nil
    /// The machine it ran on (its host name); nil in lines written before it was recorded.
    public var host: String? = nil
    /// ISO-8601 UTC with milliseconds.
    public var startedAt: String
    public var endedAt: String
    /// How the run ended.
    public var outcome: Outcome
    /// The error that stopped the run, for `failed` and `outputClosed`.
    public var message: String?
    /// False when the output is a stream (`--output -`): a re-run cannot resume it.
    public var resumable: Bool
    /// `K/N` with `--shard`: the run fetched only that shard of the input.
    public var shard: String?
    public var input: Input
    /// The output after the run (`path` is `-` for standard output; its figures are of the bytes written).
    public var output: FileState
    /// The errors file after the run.
    public var errors: FileState
    public var counts: Counts
    /// What the rate limiter learned, when it learned anything.
    public var limit: Limit?
    /// What the run found on disk before it started.
    public var found: Found
    /// SHA-256 of the previous line of the manifest, nil on the first.
    public var previous: String?
    /// SHA-256 of this line written with `"seal":""`.
    public var seal = ""

    public enum Outcome: String, Codable, Sendable {
        /// Every input id was recorded (some may be in the errors file).
        case completed
        /// Stopped by Ctrl-C or SIGTERM; a re-run resumes.
        case interrupted
        /// Stopped by an error (named in `message`); a re-run resumes.
        case failed
        /// The reader of `--output -` went away (EPIPE).
        case outputClosed
        /// A checkpoint of a run still going: it vouches for the records written so far (synced
        /// to disk first), so a run killed later leaves at most what followed its last checkpoint
        /// unvouched. The run's later lines share its `startedAt`.
        case running
    }

    /// Where the ids came from.
    public struct Input: Codable, Sendable, Equatable {
        /// The ids file, `-` for standard input, `export:<path>` or `interval:<start/end>`.
        public var source: String
        /// The SHA-256, size and lines of the input file, or of the bytes read from standard input;
        /// nil for interval discovery.
        public var sha256: String?
        public var bytes: Int64?
        public var lines: Int?
        /// Each file of an export, with its own fingerprint.
        public var files: [ExportFile]?
        /// Input records (ids and lines that were not ids) the run read.
        public var records: Int
        /// False when the run stopped before the end of its input.
        public var complete: Bool
        /// For interval discovery: how the interval was covered, e.g. `jobs START/T, query T/END
        /// (availability cut-off T)`.
        public var coverage: String?

        public init(
            source: String, fingerprint: FileFingerprint? = nil, files: [ExportFile]? = nil, records: Int = 0,
            complete: Bool = false, coverage: String? = nil
        ) {
            self.source = source
            self.coverage = coverage
            sha256 = fingerprint?.sha256
            bytes = fingerprint?.bytes
            lines = fingerprint?.lines
            self.files = files
            self.records = records
            self.complete = complete
        }
    }

    /// One file of a `--from-export` input.
    public struct ExportFile: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
        public var bytes: Int64

        public init(path: String, fingerprint: FileFingerprint) {
            self.path = path
            sha256 = fingerprint.sha256
            bytes = fingerprint.bytes
        }
    }

    /// A file's path and fingerprint.
    public struct FileState: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
        public var bytes: Int64
        public var lines: Int
        /// The output's SHA-256 midstate after its `bytes` (``SHA256/midstate``): the next run on
        /// the same file goes on hashing from here, reading only what it appends. `convoy verify`
        /// still reads every byte. Nil for other files and streams.
        public var sha256State: String?

        public init(path: String, fingerprint: FileFingerprint, sha256State: String? = nil) {
            self.path = path
            sha256 = fingerprint.sha256
            bytes = fingerprint.bytes
            lines = fingerprint.lines
            self.sha256State = sha256State
        }

        /// The tally this file's figures end in, to go on from; nil without a midstate.
        public var tally: FileFingerprint.Tally? {
            sha256State.flatMap { FileFingerprint.Tally(midstate: $0, bytes: bytes, lines: lines) }
        }

        public var fingerprint: FileFingerprint { FileFingerprint(sha256: sha256, bytes: bytes, lines: lines) }

        /// A placeholder until ``ManifestRecorder`` measures the file.
        public static let unmeasured = FileState(path: "", fingerprint: .empty)
    }

    /// The run's counts, as in its summary.
    public struct Counts: Codable, Sendable, Equatable {
        public var fetched: Int
        public var failed: Int
        public var invalid: Int
        public var skipped: Int
        public var repeated: Int
        public var otherShards: Int
        public var requests: Int
        public var retries: Int
        public var throttled: Int
        /// Ids in flight when the run stopped: a re-run fetches them.
        public var abandoned: Int

        public init(_ summary: FetchSummary) {
            fetched = summary.fetched
            failed = summary.failed
            invalid = summary.invalid
            skipped = summary.skipped
            repeated = summary.duplicates
            otherShards = summary.otherShards
            requests = summary.requests
            retries = summary.retries
            throttled = summary.throttled
            abandoned = summary.abandoned
        }
    }

    /// The limit as the rate limiter learned it.
    public struct Limit: Codable, Sendable, Equatable {
        /// `headers` when the server stated it, else how it was searched for.
        public var mode: String
        /// The budget per window and the window, when a header stated them.
        public var limit: Int?
        public var windowSeconds: Double?
        /// The pace at the end, requests per second.
        public var ratePerSecond: Double

        public init(_ snapshot: RateLimiterSnapshot) {
            mode = snapshot.mode.rawValue
            limit = snapshot.limit
            windowSeconds = snapshot.windowSeconds
            ratePerSecond = (snapshot.rate * 1000).rounded() / 1000
        }
    }

    /// The files as the run found them, measured against the previous manifest line.
    public struct Found: Codable, Sendable, Equatable {
        /// Whole records in the output and errors files before the run.
        public var outputRecords: Int
        public var errorRecords: Int
        /// Records no earlier manifest line covers: written by a run that was killed (kill -9, power
        /// loss) before it could write its line. All records when there is no earlier line.
        public var uncoveredOutputRecords: Int
        public var uncoveredErrorRecords: Int
        /// The ids of those records (the first ``unvouchedIDLimit`` of each file), so that `convoy
        /// verify` can name the evidence no run vouches for; nil when there are none, or in lines
        /// written before Convoy recorded them.
        public var unvouchedOutputIDs: [String]?
        public var unvouchedErrorIDs: [String]?
        /// How many ids of unvouched records a line names at most, per file.
        public static let unvouchedIDLimit = 100
        /// Whether the output still begins with exactly the bytes the previous line recorded; nil
        /// when there is no previous line, or when the run went on from the previous line's
        /// midstate without reading those bytes (``previousOutputRead`` false). False means the
        /// output was altered between runs.
        public var previousOutputIntact: Bool?
        /// False when the run took the bytes the previous line covers as recorded and hashed on
        /// from its midstate, reading only what follows (the default; `fetch --check-output`
        /// reads them all, as `convoy verify` does); nil when there is no previous line.
        public var previousOutputRead: Bool?
        /// Bytes of torn last lines cut (a crash mid-write).
        public var tornBytesCut: Int
        /// Retryable failures taken out of the errors file to be tried again.
        public var retriedFailures: Int

        public init(
            outputRecords: Int = 0, errorRecords: Int = 0, uncoveredOutputRecords: Int = 0,
            uncoveredErrorRecords: Int = 0, previousOutputIntact: Bool? = nil, tornBytesCut: Int = 0,
            retriedFailures: Int = 0
        ) {
            self.outputRecords = outputRecords
            self.errorRecords = errorRecords
            self.uncoveredOutputRecords = uncoveredOutputRecords
            self.uncoveredErrorRecords = uncoveredErrorRecords
            self.previousOutputIntact = previousOutputIntact
            self.tornBytesCut = tornBytesCut
            self.retriedFailures = retriedFailures
        }
    }

    public init(
        tool: String, command: [String], apiBase: String, oauthClientId: String?, startedAt: String,
        endedAt: String, outcome: Outcome, message: String? = nil, resumable: Bool, shard: String? = nil,
        input: Input, output: FileState = .unmeasured, errors: FileState = .unmeasured, counts: Counts,
        limit: Limit?, found: Found = Found(), previous: String? = nil
    ) {
        self.tool = tool
        self.command = command
        self.apiBase = apiBase
        self.oauthClientId = oauthClientId
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.outcome = outcome
        self.message = message
        self.resumable = resumable
        self.shard = shard
        self.input = input
        self.output = output
        self.errors = errors
        self.counts = counts
        self.limit = limit
        self.found = found
        self.previous = previous
    }
}
