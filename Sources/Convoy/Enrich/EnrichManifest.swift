/// An enrich run's account of itself: one line of `<out>/enrich.manifest.ndjson`, sealed and
/// chained as ``SealedManifest`` says, with the SHA-256 of every file the run read and wrote, so
/// that `convoy verify <out>` can show the originals untouched and the enriched set unaltered.
public struct EnrichManifest: SealedManifest, Sendable, Equatable {
    /// The version of this format.
    public var format = 1
    /// Always `enrich`: what wrote the line.
    public var kind = "enrich"
    public var tool: String
    /// The command line as given.
    public var command: [String]
    /// ISO-8601 UTC with milliseconds.
    public var startedAt: String
    public var endedAt: String
    /// `completed`, `interrupted` (Ctrl-C: the files listed are whole, the rest not written) or
    /// `failed` (with `message`).
    public var outcome: String
    public var message: String?
    /// The export path (relative to the manifest's folder, unless absolute), and each file read
    /// (path relative to the export).
    public var export: Export
    /// The records and errors files read (paths relative to the manifest's folder, unless absolute).
    public var records: [RunManifest.FileState]
    public var errors: [RunManifest.FileState]
    /// Every file written, relative to the output folder (the manifest itself aside).
    public var written: [RunManifest.FileState]
    public var counts: EnrichSummary
    public var previous: String?
    public var seal = ""

    public struct Export: Codable, Sendable, Equatable {
        public var path: String
        public var files: [RunManifest.ExportFile]
    }

    public init(
        tool: String, command: [String], startedAt: String, endedAt: String, outcome: String, message: String?,
        export: Export, records: [RunManifest.FileState], errors: [RunManifest.FileState],
        written: [RunManifest.FileState], counts: EnrichSummary
    ) {
        self.tool = tool
        self.command = command
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.outcome = outcome
        self.message = message
        self.export = export
        self.records = records
        self.errors = errors
        self.written = written
        self.counts = counts
    }
}
