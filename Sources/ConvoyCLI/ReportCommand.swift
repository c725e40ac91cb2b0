import Convoy
import Foundation

/// `convoy report`: one self-contained HTML file for counsel, from an output, its manifest chain,
/// the verify result and, with `--enriched`, an enrich folder.
struct ReportCommand {
    static let help = """
        USAGE: convoy report OUTPUT --html FILE [--enriched DIR] [--errors FILE] [--manifest FILE]

        Writes one HTML file (no external assets; prints to PDF as it shows) that a reviewer can
        read without Convoy:
          - the verify result (as 'convoy verify' finds it now) and the run history from the manifest
            chain: when each run started and ended, how, by whom and on which machine, what it did;
          - every file's SHA-256, size and lines as the manifests record them;
          - a chart of the runs: conversations fetched and failed in each;
          - with --enriched DIR: its verify result, the field-recovery table of 'convoy enrich', and
            the export's ids without a record, each with its reason;
          - the ids the fetch could not record, each with its reason.

        OPTIONS:
          --html FILE           the report to write (required; '-': standard output)
          --enriched DIR        the folder of 'convoy enrich --out DIR'
          --errors FILE         the errors file (default: the one the manifest names)
          --manifest FILE       the manifest (default: the output name with .manifest.ndjson)
          -h, --help            show this help

        EXIT STATUS: 0 written and verified, 1 written but a check failed (the report says which) or an
        error, 64 usage error.

        EXAMPLE:
          convoy report conversations.ndjson --enriched enriched --html custody.html
        """

    var outputPath: String
    var htmlPath: String
    var enrichedPath: String?
    var errorsPath: String?
    var manifestPath: String?

    init(arguments: [String]) throws {
        var arguments = Arguments(arguments)
        let html = try arguments.value("html")
        enrichedPath = try arguments.value("enriched")
        errorsPath = try arguments.value("errors")
        manifestPath = try arguments.value("manifest")
        let positionals = arguments.takePositionals()
        try arguments.finish()
        guard positionals.count == 1, let output = positionals.first else {
            throw ConvoyError.usage(
                "convoy report takes one output file, e.g. convoy report conversations.ndjson --html custody.html")
        }
        guard let html else { throw ConvoyError.usage("convoy report needs --html FILE: where to write the report") }
        outputPath = output
        htmlPath = html
    }

    func run(console: Console) async throws -> Int32 {
        try OutputPathCheck.check(htmlPath, option: "--html")
        guard FileManager.default.fileExists(atPath: outputPath) else {
            throw ConvoyError.input("\(outputPath) does not exist: nothing to report on")
        }
        let verifier = CustodyVerifier(outputPath: outputPath, errorsPath: errorsPath, manifestPath: manifestPath)
        guard FileManager.default.fileExists(atPath: verifier.manifestPath) else {
            throw ConvoyError.input("no manifest at \(verifier.manifestPath): a report rests on the manifest chain")
        }
        var report = CustodyReport(
            outputPath: outputPath, manifestPath: verifier.manifestPath, generatedAt: RecordEncoder.timestamp(Date()),
            tool: "convoy \(FetchRunner.version)")
        report.checks = try await verifier.verify(input: IDReader?.none)
        report.runs = try ManifestLog(path: verifier.manifestPath).lines().compactMap(Self.object)
        if let last = report.runs.last(where: { $0["outcome"] as? String != "running" }) ?? report.runs.last,
            let errors = (last["errors"] as? [String: Any])?["path"] as? String
        {
            let path = errorsPath ?? ManifestPath.resolved(errors, manifest: verifier.manifestPath)
            report.failures = Self.records(path, limit: CustodyReport.rowsShown + 1)
        }
        if let enrichedPath {
            guard EnrichVerifier.isEnrichFolder(enrichedPath) else {
                throw ConvoyError.input(
                    "\(enrichedPath) is not the folder of 'convoy enrich --out' (no enrich manifest)")
            }
            let enrich = EnrichVerifier(directory: enrichedPath)
            report.enrichedPath = enrichedPath
            report.enrichChecks = try enrich.verify()
            report.enrichRun = try ManifestLog(path: enrich.manifestPath).lines().compactMap(Self.object).last
            report.enrichFiles = Self.records(
                (enrichedPath as NSString).appendingPathComponent("report.ndjson"), limit: .max)
        }
        if htmlPath == "-" {
            console.print(report.html())
        } else {
            let file = try AtomicFile.Writer(path: htmlPath)
            try file.write(Array(report.html().utf8))
            try file.commit()
        }
        let verified = report.verified
        console.error(
            "convoy report: \(htmlPath): \(report.runs.count) manifest line\(report.runs.count == 1 ? "" : "s"), "
                + (verified ? "verified" : "NOT verified (the report names each discrepancy)"))
        return verified ? 0 : 1
    }

    private static func object(_ line: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any]
    }

    /// The JSON objects of an NDJSON file, `limit` at most; none when it cannot be read.
    private static func records(_ path: String, limit: Int) -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        var result: [[String: Any]] = []
        for line in data.split(separator: UInt8(ascii: "\n")) where result.count < limit {
            if let object = object(Array(line)) { result.append(object) }
        }
        return result
    }
}
