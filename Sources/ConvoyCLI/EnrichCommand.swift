import Convoy
import Foundation
import Synchronization

/// `convoy enrich`: puts the fetched records beside the export they were read from, and reports
/// which fields the export lacked and are now recovered.
struct EnrichCommand {
    static let help = """
        USAGE: convoy enrich EXPORT_PATH --records FILE --out DIR [options]

        Recording and transcript exports drop the fields that legal and audit work needs. After
        'convoy fetch --from-export EXPORT_PATH' has recovered every conversation, 'enrich' joins
        the two, file by file, and never touches the export:

          DIR/<folder>.recovered.ndjson in Genesys's S3 layout, a sidecar per conversation_id= folder:
                                        the folder's record (its metadata read, its recordings not)
          DIR/<file>.recovered.ndjson   a sidecar per export file: for each conversation id in that
                                        file (in file order, once), its record verbatim
          DIR/merged/<file>             with --merged: the export file with a "convoy" member (the
                                        record) added to the first object of each conversation;
                                        nothing the export had is changed, its bytes stay as they were
          DIR/report.ndjson             one line per export file: ids, ids with no record (and why,
                                        from the errors file), invalid ids (file and position), and
                                        per field: in the export, absent, recovered, still missing (ids)
          DIR/report.csv                the same counts as a table a spreadsheet opens
          DIR/conversations.csv         a row per conversation: its record (or why none), and per
                                        field: export, recovered or missing
          DIR/enrich.manifest.ndjson    one sealed line per run: the SHA-256 of every file read and
                                        written ('convoy verify DIR' checks them)

        Every id of the export ends in a sidecar, in a report's list of ids with no record, or in its
        invalid list. The exit status is 2 when any id has no record.

        OPTIONS:
          --records FILE        a 'convoy fetch' output (repeat for the outputs of several shards)
          --errors FILE         its errors file, for the reasons (default: each records file's
                                .errors.ndjson, when it exists; repeatable)
          --out DIR             where to write (created; must not be inside the export)
          --fields LIST         comma-separated field paths to report on (repeatable), in place of
                                the defaults; 'default' stands for them. A path names a field in
                                the record, arrays stepped into: conversation.participants[].wrapup.code.
                                In the export it is looked up without its first member.
          --merged              also write the merged form
          --no-progress         no live progress line
          -h, --help            show this help

        DEFAULT FIELDS:
        \(FieldPath.defaults.map { "  " + $0.description }.joined(separator: "\n"))

        EXIT STATUS: 0 every id has its record, 2 some have none (listed in the report),
        1 an error, 64 usage error, 130 interrupted (the files done are whole).

        EXAMPLE:
          convoy fetch --from-export ./export --output conversations.ndjson
          convoy enrich ./export --records conversations.ndjson --out ./enriched
        """

    var configuration: Enricher.Configuration
    var showProgress: Bool

    init(arguments: [String]) throws {
        let command = ["convoy", "enrich"] + Arguments.redacting(arguments)
        var arguments = Arguments(arguments)
        let records = try arguments.values("records")
        let errors = try arguments.values("errors")
        let output = try arguments.value("out")
        let fieldLists = try arguments.values("fields")
        let merged = try arguments.flag("merged")
        showProgress = try !arguments.flag("no-progress")
        let positionals = arguments.takePositionals()
        try arguments.finish()
        guard positionals.count == 1, let export = positionals.first else {
            throw ConvoyError.usage(
                "convoy enrich takes one export path, e.g. convoy enrich ./export --records conversations.ndjson --out ./enriched"
            )
        }
        guard !records.isEmpty else {
            throw ConvoyError.usage("--records FILE is required: the output of 'convoy fetch --from-export \(export)'")
        }
        guard let output else { throw ConvoyError.usage("--out DIR is required: where the sidecars and the report go") }
        configuration = Enricher.Configuration(
            exportPath: export, recordsPaths: records,
            errorsPaths: errors.isEmpty
                ? records.map(FetchCommand.defaultErrorsPath).filter { FileManager.default.fileExists(atPath: $0) }
                : errors,
            outputDirectory: output)
        if !fieldLists.isEmpty { configuration.fields = try Self.fields(fieldLists) }
        configuration.merged = merged
        configuration.command = command
        configuration.tool = "convoy \(FetchRunner.version)"
    }

    /// The fields of `--fields` lists, `default` expanded, repeats dropped.
    static func fields(_ lists: [String]) throws -> [FieldPath] {
        var fields: [FieldPath] = []
        for item in lists.flatMap({ $0.split(separator: ",") }).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let expanded: [FieldPath]
            if item == "default" {
                expanded = FieldPath.defaults
            } else if let field = FieldPath(item) {
                expanded = [field]
            } else {
                throw ConvoyError.usage(
                    "'\(item)' is not a field path (members joined by '.', e.g. conversation.startTime)")
            }
            for field in expanded where !fields.contains(field) { fields.append(field) }
        }
        return fields
    }

    func run(console: Console) async throws -> Int32 {
        for path in configuration.recordsPaths where !FileManager.default.fileExists(atPath: path) {
            throw ConvoyError.input("no such records file: \(path)")
        }
        let enricher = try Enricher(configuration: configuration)
        let cancelled = Atomic<Bool>(false)
        let trap = SignalTrap { _ in cancelled.store(true, ordering: .relaxed) }
        defer { trap.cancel() }
        let showProgress = self.showProgress
        let summary = try enricher.run(
            progress: { status in
                guard showProgress else { return }
                console.progress(
                    status.filesDone == 0
                        ? "indexing records: \(status.recordBytesIndexed / 1_048_576) MiB"
                        : "enriching: \(status.filesDone)/\(status.files) files, \(status.ids) ids")
            },
            isCancelled: { cancelled.load(ordering: .relaxed) })
        console.clearProgress()
        Self.printSummary(summary, directory: configuration.outputDirectory, console: console)
        if !summary.complete { return 130 }
        return summary.accountedInFull ? 0 : 2
    }

    static func printSummary(_ summary: EnrichSummary, directory: String, console: Console) {
        console.print(
            "convoy enrich: \(summary.files) export file\(summary.files == 1 ? "" : "s"), \(summary.ids) ids: "
                + "\(summary.withRecord) with a record, \(summary.noRecord) without, \(summary.invalid) invalid")
        let width = max(5, summary.fields.map(\.field.count).max() ?? 0)
        func pad(_ text: String, _ count: Int, left: Bool = false) -> String {
            let padding = String(repeating: " ", count: max(0, count - text.count))
            return left ? text + padding : padding + text
        }
        console.print(
            "  " + pad("field", width, left: true) + pad("in export", 11) + pad("absent", 9) + pad("recovered", 11)
                + pad("still missing", 15))
        for field in summary.fields {
            console.print(
                "  " + pad(field.field, width, left: true) + pad("\(field.inExport)", 11) + pad("\(field.absent)", 9)
                    + pad("\(field.recovered)", 11) + pad("\(field.stillMissing)", 15))
        }
        let report = (directory as NSString).appendingPathComponent(Enricher.reportName)
        console.print(
            "sidecars, \(Enricher.reportName) and \(Enricher.tableName) in \(directory); "
                + "ids without a record: jq '.noRecord[]' \(report)")
        if summary.duplicateRecords > 0 || summary.unreadableRecords > 0 {
            console.print(
                "note: the records files hold \(summary.duplicateRecords) repeated records (the first was used) "
                    + "and \(summary.unreadableRecords) lines that are not records")
        }
        console.print(ending(summary, report: report))
    }

    /// The summary's last line: how the run ended.
    static func ending(_ summary: EnrichSummary, report: String) -> String {
        if !summary.complete {
            return "convoy enrich: interrupted: the files not listed in the report were not done; run it again"
        }
        if !summary.accountedInFull {
            return "convoy enrich: done: \(summary.noRecord) ids without a record, \(summary.invalid) invalid "
                + "(each with its reason in \(report))"
        }
        return "convoy enrich: done"
    }
}
